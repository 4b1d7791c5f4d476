/**
 * A loopback npm registry holding exactly the runtime dependency tree of this package, packed from
 * its own node_modules: `npm install` of our tarball then needs nothing outside the machine. It
 * serves a packument per package (`GET /<name>`) and the tarballs (`GET /-/<file>`), records what
 * was asked, and answers 404 to anything else (a package it was not given).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bin?: unknown;
  engines?: unknown;
}

interface Entry {
  readonly manifest: PackageJson;
  readonly file: string;
  readonly integrity: string;
}

export interface LocalRegistry extends AsyncDisposable {
  readonly url: string;
  /** name@version of every package it holds. */
  readonly packages: readonly string[];
  /** Paths asked for that it does not hold. */
  readonly misses: string[];
  /** Optional peer dependencies of what it holds: npm asks for them, and installs none. */
  readonly optionalPeers: readonly string[];
}

async function readManifest(dir: string): Promise<PackageJson> {
  return JSON.parse(await fs.readFile(path.join(dir, "package.json"), "utf8")) as PackageJson;
}

/** Where `name` resolves from `fromDir`, as Node would find it (nested first, then upwards). */
async function findInstalled(name: string, fromDir: string, root: string): Promise<string> {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    try {
      await fs.access(path.join(candidate, "package.json"));
      return candidate;
    } catch {
      // not here; look further up
    }
    if (dir === root || dir === path.dirname(dir)) break;
  }
  throw new Error(`${name} is not installed under ${root}: run npm ci first`);
}

/** Packs the runtime dependency tree of the package at `root` and serves it on 127.0.0.1. */
export async function startLocalRegistry(root: string, workDir: string): Promise<LocalRegistry> {
  await fs.mkdir(workDir, { recursive: true });
  const entries = new Map<string, Entry>();
  const pending: [string, string][] = Object.keys(
    (await readManifest(root)).dependencies ?? {},
  ).map((name) => [name, root]);
  while (pending.length > 0) {
    const [name, from] = pending.shift()!;
    if (entries.has(name)) continue;
    const dir = await findInstalled(name, from, root);
    const manifest = await readManifest(dir);
    const { stdout } = await run(
      "npm",
      ["pack", dir, "--ignore-scripts", "--json", "--pack-destination", workDir],
      { cwd: workDir },
    );
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    const file = path.join(workDir, packed!.filename);
    const digest = createHash("sha512")
      .update(await fs.readFile(file))
      .digest("base64");
    entries.set(name, { manifest, file, integrity: `sha512-${digest}` });
    for (const dep of Object.keys({
      ...manifest.dependencies,
      ...manifest.optionalDependencies,
    })) {
      pending.push([dep, dir]);
    }
  }

  const misses: string[] = [];
  let base = "";
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      const tarball = /^\/-\/(.+)$/.exec(url)?.[1];
      const entry = tarball
        ? [...entries.values()].find((e) => path.basename(e.file) === tarball)
        : entries.get(url.slice(1));
      if (entry === undefined) {
        misses.push(url);
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
        return;
      }
      if (tarball) {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.end(await fs.readFile(entry.file));
        return;
      }
      const { manifest } = entry;
      const version = {
        ...manifest,
        dist: {
          tarball: `${base}/-/${encodeURIComponent(path.basename(entry.file))}`,
          integrity: entry.integrity,
        },
      };
      const packument = {
        name: manifest.name,
        "dist-tags": { latest: manifest.version },
        versions: { [manifest.version]: version },
      };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(packument));
    })().catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: `${base}/`,
    packages: [...entries.values()].map((e) => `${e.manifest.name}@${e.manifest.version}`),
    misses,
    optionalPeers: [...entries.values()].flatMap((e) =>
      Object.entries(e.manifest.peerDependenciesMeta ?? {})
        .filter(([, meta]) => meta.optional === true)
        .map(([name]) => name),
    ),
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
