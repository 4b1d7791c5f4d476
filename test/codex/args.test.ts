import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyArgs, insertOptions, isSessionLaunch, rebuildArgs } from "../../src/codex/args.js";
import { resumeArgs } from "../../src/codex/resume-args.js";

const ID = "01a20fbc-f496-7f30-be61-1b32924626f4";

describe("classifyArgs", () => {
  it.each([
    [[], "interactive", null],
    [["fix the tests"], "interactive", "fix the tests"],
    [["-m", "o3", "-p", "prof", "--cd", "/x", "write tests"], "interactive", "write tests"],
    [["-c", "exec", "hello"], "interactive", "hello"],
    [["--config=model=o3", "-cmodel=o3", "hi"], "interactive", "hi"],
    [["--", "exec"], "interactive", "exec"],
    [["--", "--version"], "interactive", "--version"],
    [["-i", "a.png", "b.png"], "interactive", null],
    [["exec", "do it"], "exec", "do it"],
    [["e", "--json", "do it"], "exec", "do it"],
    [["-m", "o3", "Exec", "-s", "read-only", "do it", "--json"], "exec", "do it"],
    [["exec", "--", "--version"], "exec", "--version"],
    // 0.171: exec takes --remote <ADDR> and --remote-auth-token-env <VAR>.
    [["exec", "--remote", "ws://127.0.0.1:1", "--remote-auth-token-env", "T", "go"], "exec", "go"],
    [["login", "status"], "passthrough", null],
    [["mcp", "add", "x", "--", "exec"], "passthrough", null],
    [["--version"], "passthrough", null],
    [["-c", "k=v", "--help"], "passthrough", null],
    [["-hV"], "passthrough", null],
  ] as const)("%j → %s", (argv, kind, prompt) => {
    const c = classifyArgs(argv);
    expect(c.kind).toBe(kind);
    expect(c.prompt).toBe(prompt);
  });

  it("reads resume, fork and exec resume with ids, --last and prompts", () => {
    expect(classifyArgs(["ReSuMe", ID, "go on"])).toMatchObject({
      kind: "resume",
      command: "resume",
      sessionId: ID,
      prompt: "go on",
      last: false,
    });
    expect(classifyArgs(["fork", "--last", "go"])).toMatchObject({
      kind: "fork",
      sessionId: null,
      last: true,
      prompt: "go",
    });
    expect(classifyArgs(["exec", "--json", "resume", "--last", "more"])).toMatchObject({
      kind: "exec-resume",
      sessionId: null,
      last: true,
      prompt: "more",
      execOptions: ["--json"],
    });
    expect(classifyArgs(["exec", "resume", "--remote", "ws://h:1", ID, "x"])).toMatchObject({
      kind: "exec-resume",
      sessionId: ID,
      prompt: "x",
    });
    expect(classifyArgs(["exec", "resume", "-m", "o3", ID, "x"])).toMatchObject({
      kind: "exec-resume",
      sessionId: ID,
      prompt: "x",
      resumeOptions: ["-m", "o3"],
    });
  });

  it("does not treat help after a subcommand or after -- as top-level", () => {
    expect(classifyArgs(["exec", "--help"])).toMatchObject({
      kind: "exec",
      topLevelInfo: false,
      subcommandInfo: true,
    });
    expect(isSessionLaunch(classifyArgs(["exec", "--help"]))).toBe(false);
    expect(classifyArgs(["exec", "--", "--version"]).topLevelInfo).toBe(false);
    expect(isSessionLaunch(classifyArgs(["exec", "--", "--version"]))).toBe(true);
  });
});

const TOKENS = [
  "exec", "EXEC", "e", "resume", "Resume", "fork", "login", "mcp", "--", "-c", "--config", "k=v",
  "--config=a=b", "-m", "o3", "-mo3", "-p", "-i", "x.png", "--json", "--last", "--help", "-h",
  "--version", "-V", "-hV", "--no-daemon", "--skip-git-repo-check", ID, "a prompt", "-", "",
  "--enable", "--model=x", "-C", "/dir",
]; // prettier-ignore
const argvArb = fc.array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 6 })), {
  maxLength: 12,
});

describe("classification properties", () => {
  it("round-trips: rebuilding gives back the argv, and re-classifying gives the same result", () => {
    fc.assert(
      fc.property(argvArb, (argv) => {
        const c = classifyArgs(argv);
        expect(rebuildArgs(c)).toEqual(argv);
        expect(classifyArgs(rebuildArgs(c))).toEqual(c);
      }),
      { numRuns: 2000 },
    );
  });

  it("-c values and value-flag values are never commands or prompts", () => {
    const flag = fc.constantFrom("-c", "--config", "-m", "-p", "--cd", "-s", "--enable");
    fc.assert(
      fc.property(
        fc.array(fc.tuple(flag, fc.constantFrom("exec", "resume", "login", "fix it")), {
          maxLength: 4,
        }),
        fc.option(fc.constantFrom("fix it", "please")),
        (pairs, prompt) => {
          const argv = [...pairs.flat(), ...(prompt === null ? [] : [prompt])];
          const c = classifyArgs(argv);
          expect(c.kind).toBe("interactive");
          expect(c.prompt).toBe(prompt);
          expect(c.globalOptions).toEqual(pairs.flat());
        },
      ),
    );
  });

  it("inserted options stay before any -- and keep the caller's tokens in order", () => {
    fc.assert(
      fc.property(argvArb, (argv) => {
        const c = classifyArgs(argv);
        const out = insertOptions(c, ["-c", "z=1"]);
        expect(out.length).toBe(argv.length + 2);
        const at = out.indexOf("z=1") - 1;
        expect([...out.slice(0, at), ...out.slice(at + 2)]).toEqual(argv);
        if (c.separatorIndex !== -1) expect(at).toBeLessThanOrEqual(c.separatorIndex);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("resumeArgs", () => {
  it("keeps global and resume flags for the TUI, drops pickers and images, adds the safety flags", () => {
    const c = classifyArgs([
      "-m",
      "o3",
      "-c",
      "a=1",
      "-i",
      "x.png",
      "--search",
      "resume",
      "--last",
      "--all",
      "-p",
      "prof",
    ]);
    expect(c.kind).toBe("resume");
    expect(resumeArgs(c, ID)).toEqual([
      "-m", "o3", "-c", "a=1", "--search", "resume", ID, "-p", "prof", "--no-daemon", "--disable", "cli_resume_account_check",
    ]); // prettier-ignore
    expect(resumeArgs(classifyArgs(["--no-daemon", "fix"]), ID, { prompt: "-go" })).toEqual([
      "--no-daemon", "resume", ID, "--disable", "cli_resume_account_check", "--", "-go",
    ]); // prettier-ignore
  });

  it("keeps exec flags (before and after the prompt) for exec", () => {
    const c = classifyArgs(["-c", "a=1", "Exec", "--skip-git-repo-check", "do it", "--json"]);
    expect(resumeArgs(c, ID, { prompt: "continue" })).toEqual([
      "-c", "a=1", "Exec", "--skip-git-repo-check", "--json", "resume", ID, "--", "continue",
    ]); // prettier-ignore
    const r = classifyArgs(["exec", "--json", "resume", "--last", "-m", "o3", "more"]);
    expect(resumeArgs(r, ID)).toEqual(["exec", "--json", "resume", "-m", "o3", ID]);
    expect(classifyArgs(resumeArgs(r, ID))).toMatchObject({ kind: "exec-resume", sessionId: ID });
  });

  it("follows clap: -i swallows the values after it, so a command after it is an image", () => {
    expect(classifyArgs(["-i", "x.png", "resume"])).toMatchObject({
      kind: "interactive",
      prompt: null,
    });
  });

  it("rejects ids that are not UUIDs and commands that are not sessions", () => {
    expect(() => resumeArgs(classifyArgs([]), "../../etc")).toThrow(/not a Codex session id/);
    expect(() => resumeArgs(classifyArgs([]), "--last")).toThrow(/not a Codex session id/);
    expect(() => resumeArgs(classifyArgs(["login"]), ID)).toThrow(/cannot resume/);
  });
});
