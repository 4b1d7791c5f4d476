// Runs the real-codex end-to-end tests against another Codex CLI version (npm run test:codex -- 0.169.0).
// The version is installed once into a scratch folder under node_modules/.cache (never into the
// project's own dependencies), and the tests are pointed at its native binary through
// CODEX_POOL_TEST_CODEX (test/helpers/codex-bin.ts), which makes a missing binary fail, not skip.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const version = process.argv[2] ?? "";
if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(version)) {
  process.stderr.write(
    "usage: npm run test:codex -- <version>, e.g. npm run test:codex -- 0.169.0\n",
  );
  process.exit(2);
}

/** Runs a command with the terminal inherited; stops the script when it fails. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", cwd: root, ...options });
  if (result.status !== 0) {
    process.stderr.write(`test:codex: ${command} ${args.join(" ")} failed\n`);
    process.exit(result.status ?? 1);
  }
}

run("npm", ["run", "build"]);
const { nativeFromPackageRoot } = await import(path.join(root, "dist/codex/binary.js"));

const scratch = path.join(root, "node_modules", ".cache", "codex-pool-test-codex", version);
const pkgRoot = path.join(scratch, "node_modules", "@openai", "codex");
let binary = fs.existsSync(pkgRoot)
  ? nativeFromPackageRoot(pkgRoot, process.platform, process.arch)
  : null;
if (binary === null) {
  fs.mkdirSync(scratch, { recursive: true });
  fs.writeFileSync(path.join(scratch, "package.json"), '{ "private": true }\n');
  run("npm", [
    "install",
    "--prefix",
    scratch,
    "--no-audit",
    "--no-fund",
    "--ignore-scripts",
    "--save-exact",
    `@openai/codex@${version}`,
  ]);
  binary = nativeFromPackageRoot(pkgRoot, process.platform, process.arch);
}
if (binary === null) {
  process.stderr.write(`test:codex: no native codex binary for this platform in ${pkgRoot}\n`);
  process.exit(1);
}
const printed = spawnSync(binary, ["--version"], { encoding: "utf8" }).stdout ?? "";
if (!printed.includes(version)) {
  process.stderr.write(`test:codex: ${binary} says "${printed.trim()}", not ${version}\n`);
  process.exit(1);
}
process.stdout.write(`test:codex: running the real-codex tests on ${printed.trim()}\n`);
// Every test that drives the real binary is named *.e2e.test.ts or codex-real*.test.ts.
run("npx", ["vitest", "run", "e2e", "codex-real"], {
  env: { ...process.env, CODEX_POOL_TEST_CODEX: binary },
});
