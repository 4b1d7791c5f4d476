import { describe, expect, it } from "vitest";
import { infoArgs } from "../../src/cli/info-fast-path.js";
import { runCli } from "../helpers/cli.js";
import { tempHomes } from "../helpers/tmp.js";

describe("the `run -- --version` fast path", () => {
  it("takes only `run -- <args>` and the bare `run --version` forms", () => {
    expect(infoArgs(["run", "--", "--version"])).toEqual(["--version"]);
    expect(infoArgs(["run", "--", "exec", "--help"])).toEqual(["exec", "--help"]);
    expect(infoArgs(["run", "-V"])).toEqual(["-V"]);
    expect(infoArgs(["run", "--version", "--account", "2"])).toBeNull();
    expect(infoArgs(["run", "--account", "2", "--", "--version"])).toBeNull();
    expect(infoArgs(["--pool-home", "x", "run", "--", "--version"])).toBeNull();
    expect(infoArgs(["list"])).toBeNull();
  });

  it("answers with the real codex's version and exit code, without a pool", async () => {
    await using homes = await tempHomes();
    const r = await runCli(["run", "--", "--version"], { env: homes.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^codex-cli \d+\.\d+\.\d+/);
  });

  it("reports a missing codex in one line, as every other command does", async () => {
    await using homes = await tempHomes();
    const env = { ...homes.env, CODEX_POOL_CODEX_BIN: homes.join("no-such-codex") };
    const r = await runCli(["run", "--", "--version"], { env });
    expect(r.code).toBe(69); // codex_unavailable
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^codex-pool: CODEX_POOL_CODEX_BIN is .*no executable codex/);
  });
});
