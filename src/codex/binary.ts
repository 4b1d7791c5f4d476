/**
 * Finding the real codex (docs/decisions.md, "Settings"; docs/codex-cli.md §5.1): CODEX_POOL_CODEX_BIN, else
 * `codex` on PATH (skipping a shim that runs codex-pool itself), else our own @openai/codex
 * dependency. When what we find is the npm launcher script, we launch the native binary it would
 * spawn, directly: one process, real signals, and no second Node start-up (~100 ms).
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { CodexMissingError } from "../platform/errors.js";
import type { Env } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";

export interface CodexBinary {
  /** What to execute. */
  readonly path: string;
  /** native: the Rust binary; launcher: a script (the npm launcher or something else). */
  readonly kind: "native" | "launcher";
  readonly source: "setting" | "path" | "bundled";
  /** Variables the npm launcher would have set for the native binary (update hints). */
  readonly env: Readonly<Record<string, string>>;
}

const PLATFORM_PACKAGES: Readonly<Record<string, string>> = {
  "x86_64-unknown-linux-musl": "@openai/codex-linux-x64",
  "aarch64-unknown-linux-musl": "@openai/codex-linux-arm64",
  "x86_64-apple-darwin": "@openai/codex-darwin-x64",
  "aarch64-apple-darwin": "@openai/codex-darwin-arm64",
  "x86_64-pc-windows-msvc": "@openai/codex-win32-x64",
  "aarch64-pc-windows-msvc": "@openai/codex-win32-arm64",
};

export function targetTriple(platform: string, arch: string): string | null {
  const table: Record<string, Record<string, string>> = {
    linux: { x64: "x86_64-unknown-linux-musl", arm64: "aarch64-unknown-linux-musl" },
    android: { x64: "x86_64-unknown-linux-musl", arm64: "aarch64-unknown-linux-musl" },
    darwin: { x64: "x86_64-apple-darwin", arm64: "aarch64-apple-darwin" },
    win32: { x64: "x86_64-pc-windows-msvc", arm64: "aarch64-pc-windows-msvc" },
  };
  return table[platform]?.[arch] ?? null;
}

/**
 * The Codex CLI versions whose behaviour codex-pool was checked against (docs/codex-cli.md), and
 * where live mode (docs/decisions.md decision 11) was tested end to end on each, per kind of
 * session: the pinned dev dependency runs the whole suite, and `npm run test:codex -- <version>`
 * runs the real-codex end-to-end tests on the others. `exec --remote` is new in 0.171 (0.169 has
 * no such flag), so exec relaunches there. Newest last: the one every message tells users to install.
 */
export const TESTED_CODEX: Readonly<
  Record<string, { readonly liveTui: boolean; readonly liveExec: boolean }>
> = {
  "0.169.0": { liveTui: true, liveExec: false },
  "0.171.0": { liveTui: true, liveExec: true },
};

export const TESTED_CODEX_VERSIONS: readonly string[] = Object.keys(TESTED_CODEX);

export function isTestedCodexVersion(version: string): boolean {
  return TESTED_CODEX[version] !== undefined;
}

/** The newest tested version: what the install hint names. */
export const TESTED_CODEX_VERSION = TESTED_CODEX_VERSIONS[TESTED_CODEX_VERSIONS.length - 1];

/** The one way to get codex that every message names: the version we test with (the demo's). */
export const CODEX_INSTALL_COMMAND = `npm install -g @openai/codex@${TESTED_CODEX_VERSION}`;

/** What to do when codex is missing: the hint of every CodexMissingError. */
export const CODEX_INSTALL_HINT = `install it with \`${CODEX_INSTALL_COMMAND}\`, or set CODEX_POOL_CODEX_BIN to its path`;

export interface ResolveOptions {
  platform?: string;
  arch?: string;
  /** Where to resolve our own @openai/codex from (a file inside our package); null disables it. */
  bundledFrom?: string | null;
}

function isExecutableFile(file: string): boolean {
  try {
    // Most PATH entries have no codex: no exception (and its stack) for each of them.
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first bytes of a file, as text (scripts are small; binaries show as noise). */
function head(file: string, bytes = 4096): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(bytes);
    const n = fs.readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString("latin1");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The file's real path, or null when it cannot be resolved. */
function realPathOf(file: string): string | null {
  try {
    return fs.realpathSync(file);
  } catch {
    return null;
  }
}

/** A file is there (no exception for the usual missing one; any other failure says no too). */
function isFileAt(file: string): boolean {
  try {
    return fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    return false;
  }
}

/** A `codex` that is really us: our shim (a script naming codex-pool) or a link to our CLI. */
function isOurselves(file: string, real: string | null): boolean {
  const text = head(file);
  if (text.startsWith("#!") || text.startsWith("@") || text.includes("\n")) {
    if (/codex-pool/.test(text) && !text.includes("@openai/codex")) return true;
  }
  return (
    real !== null &&
    (/codex-pool[\\/]dist[\\/]cli[\\/]main\.js$/.test(real) ||
      real.endsWith(`${path.sep}cli${path.sep}main.js`))
  );
}

/** The executables named `name` on PATH, in order, found one at a time (the first usually does). */
function* searchPath(name: string, env: Env, platform: string): Generator<string, void> {
  const dirs = (env["PATH"] ?? env["Path"] ?? "").split(platform === "win32" ? ";" : ":");
  const exts =
    platform === "win32"
      ? (env["PATHEXT"] ?? ".EXE;.CMD;.BAT").split(";").map((e) => e.toLowerCase())
      : [""];
  for (const dir of dirs) {
    if (dir === "") continue;
    for (const ext of exts) {
      const file = path.join(dir, name + ext);
      if (isExecutableFile(file)) yield file;
    }
  }
}

/**
 * The root of the @openai/codex package a launcher script belongs to, if it is one (`real`: the
 * script's real path, so the root is a real path too).
 */
function launcherPackageRoot(real: string | null): string | null {
  if (real === null) return null;
  try {
    const root = path.dirname(path.dirname(real));
    const pkg: unknown = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    if (
      typeof pkg === "object" &&
      pkg !== null &&
      (pkg as { name?: unknown }).name === "@openai/codex"
    ) {
      return root;
    }
  } catch {
    // not a package launcher
  }
  return null;
}

/**
 * The folder of the platform package `pkgName`, as the launcher's `require.resolve` from `root`
 * finds it. npm and pnpm put it inside the launcher's package or beside it in the same
 * node_modules: those places are looked at first, directly and in require.resolve's own order
 * (its first folders to search), since creating a require function costs start-up time
 * (docs/decisions.md, performance targets); any other layout is left to require.resolve itself.
 */
function platformPackageDir(root: string, pkgName: string): string | null {
  const scope = path.dirname(root);
  const nodeModules = path.dirname(scope);
  const places = [path.join(root, "node_modules"), path.join(scope, "node_modules")];
  if (path.basename(nodeModules) === "node_modules") places.push(nodeModules);
  for (const place of places) {
    const dir = path.join(place, pkgName);
    if (isFileAt(path.join(dir, "package.json"))) return dir;
  }
  try {
    const req = createRequire(path.join(root, "package.json"));
    return path.dirname(req.resolve(`${pkgName}/package.json`));
  } catch {
    return null; // the platform package is not installed next to this launcher
  }
}

/** The native binary inside an @openai/codex installation, found the way its launcher does. */
export function nativeFromPackageRoot(root: string, platform: string, arch: string): string | null {
  const triple = targetTriple(platform, arch);
  if (triple === null) return null;
  const exe = platform === "win32" ? "codex.exe" : "codex";
  const candidates: string[] = [];
  const pkgName = PLATFORM_PACKAGES[triple];
  const dir = pkgName === undefined ? null : platformPackageDir(root, pkgName);
  if (dir !== null) candidates.push(path.join(dir, "vendor", triple, "bin", exe));
  candidates.push(path.join(root, "vendor", triple, "bin", exe));
  return candidates.find(isExecutableFile) ?? null;
}

/** `file` as found; `root`: the @openai/codex package it is the launcher of, if it is one. */
function finish(
  file: string,
  root: string | null,
  source: CodexBinary["source"],
  platform: string,
  arch: string,
): CodexBinary {
  if (root !== null) {
    const native = nativeFromPackageRoot(root, platform, arch);
    if (native !== null) {
      return {
        path: native,
        kind: "native",
        source,
        env: { CODEX_MANAGED_PACKAGE_ROOT: root, CODEX_MANAGED_BY_NPM: "1" },
      };
    }
    return { path: file, kind: "launcher", source, env: {} };
  }
  const text = head(file, 2);
  return { path: file, kind: text === "#!" ? "launcher" : "native", source, env: {} };
}

export function resolveCodexBinary(
  env: Env,
  settings: Settings,
  options: ResolveOptions = {},
): CodexBinary {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const configured = settings.codexBin.trim();
  if (configured !== "") {
    const isPath = configured.includes("/") || configured.includes("\\");
    let file = isPath ? path.resolve(configured) : undefined;
    if (!isPath) for (file of searchPath(configured, env, platform)) break; // the first on PATH
    if (file === undefined || !isExecutableFile(file)) {
      throw new CodexMissingError(
        `CODEX_POOL_CODEX_BIN is "${configured}" but no executable codex is there; fix the setting, or install codex with \`${CODEX_INSTALL_COMMAND}\` and unset it`,
        { hint: CODEX_INSTALL_HINT },
      );
    }
    return finish(file, launcherPackageRoot(realPathOf(file)), "setting", platform, arch);
  }
  for (const file of searchPath("codex", env, platform)) {
    const real = realPathOf(file);
    const root = launcherPackageRoot(real);
    // An @openai/codex launcher is codex, not a shim of ours: no need to read it.
    if (root !== null || !isOurselves(file, real))
      return finish(file, root, "path", platform, arch);
  }
  const from = options.bundledFrom === undefined ? import.meta.url : options.bundledFrom;
  if (from !== null) {
    try {
      const req = createRequire(from);
      const root = path.dirname(req.resolve("@openai/codex/package.json"));
      const native = nativeFromPackageRoot(root, platform, arch);
      if (native !== null) {
        return {
          path: native,
          kind: "native",
          source: "bundled",
          env: { CODEX_MANAGED_PACKAGE_ROOT: fs.realpathSync(root), CODEX_MANAGED_BY_NPM: "1" },
        };
      }
      const launcher = path.join(root, "bin", "codex.js");
      if (isExecutableFile(launcher))
        return { path: launcher, kind: "launcher", source: "bundled", env: {} };
    } catch {
      // not installed with us
    }
  }
  throw new CodexMissingError(
    `the Codex CLI (codex) was not found on PATH; ${CODEX_INSTALL_HINT}`,
    {
      hint: CODEX_INSTALL_HINT,
    },
  );
}
