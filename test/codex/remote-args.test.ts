import { describe, expect, it } from "vitest";
import { classifyArgs } from "../../src/codex/args.js";
import { remoteClientArgv, remoteRefusal, serverOptions } from "../../src/codex/remote-args.js";

const ID = "01a20fbc-f496-7f30-be61-1b32924626f4";
const target = {
  attach: ["--remote", "ws://127.0.0.1:9", "--remote-auth-token-env", "T"],
  cwd: "/p",
};
const ours = ["-c", 'cli_auth_credentials_store="file"'];

describe("remoteClientArgv", () => {
  it("attaches the TUI with -C, drops --no-daemon (refused next to --remote), keeps the prompt", () => {
    expect(
      remoteClientArgv(classifyArgs(["--no-daemon", "-m", "o3", "fix it"]), target, null, ours),
    ).toEqual(["-m", "o3", "fix it", ...ours, ...target.attach, "-C", "/p"]);
    // The user's own -C wins; options go before a `--`.
    expect(
      remoteClientArgv(classifyArgs(["-C", "/q", "--", "--odd prompt"]), target, null, []),
    ).toEqual(["-C", "/q", ...target.attach, "--", "--odd prompt"]);
  });

  it("resumes the TUI's session without a prompt on its command line (the continuation is a turn)", () => {
    const argv = remoteClientArgv(
      classifyArgs(["--no-daemon"]),
      target,
      { sessionId: ID, prompt: null },
      [],
    );
    expect(argv).toEqual([
      "resume",
      ID,
      "--disable",
      "cli_resume_account_check",
      ...target.attach,
      "-C",
      "/p",
    ]);
    expect(argv).not.toContain("--no-daemon");
  });

  it("puts exec's attachment right after `exec`, without what the server takes (-c, -C)", () => {
    const args = classifyArgs([
      "-c",
      "a=1",
      "exec",
      "-C",
      "sub",
      "--json",
      "--skip-git-repo-check",
      "go",
    ]);
    expect(remoteClientArgv(args, target, null, ours)).toEqual([
      "exec",
      ...target.attach,
      "--json",
      "--skip-git-repo-check",
      "go",
    ]);
    expect(remoteClientArgv(args, target, { sessionId: ID, prompt: "continue" }, ours)).toEqual([
      "exec",
      ...target.attach,
      "--json",
      "--skip-git-repo-check",
      "resume",
      ID,
      "--",
      "continue",
    ]);
    expect(serverOptions(args, "/p")).toEqual({ config: ["-c", "a=1"], cwd: "/p/sub" });
  });

  it("keeps an exec resume by id as the user wrote it", () => {
    const args = classifyArgs(["exec", "resume", ID, "and again"]);
    expect(remoteClientArgv(args, target, null, [])).toEqual([
      "exec",
      ...target.attach,
      "resume",
      ID,
      "and again",
    ]);
  });
});

describe("remoteRefusal", () => {
  it.each([
    [["exec", "-m", "o3", "go"], "codex exec --remote does not take -m"],
    [["exec", "--sandbox", "read-only", "go"], "codex exec --remote does not take --sandbox"],
    [
      ["exec", "resume", "--last", "go"],
      "codex exec --remote resumes a session by id only (not --last)",
    ],
    [["exec", "review"], "codex exec --remote does not run `exec review`"],
    [["--add-dir", "/x"], "codex --remote does not take --add-dir"],
    [["--remote", "ws://x"], "it names an app-server of its own (--remote)"],
  ])("%j: %s", (argv, reason) => {
    expect(remoteRefusal(classifyArgs(argv))).toBe(reason);
  });

  it.each([
    [[]],
    [["-m", "o3", "--search", "hi"]],
    [["resume", "--last"]],
    [["exec", "--json", "-o", "f", "-C", "d", "go"]],
  ])("%j can run attached", (argv) => {
    expect(remoteRefusal(classifyArgs(argv))).toBeNull();
  });
});
