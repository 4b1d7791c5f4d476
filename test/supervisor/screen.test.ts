/**
 * Lines for the user wait while codex owns the screen (src/supervisor/screen.ts) and come out in
 * the order they were queued, a line still being formed keeping its place; what went wrong beside
 * the session is summed up into lines (src/supervisor/report.ts).
 */
import { describe, expect, it } from "vitest";
import { SessionReport } from "../../src/supervisor/report.js";
import { ScreenGate } from "../../src/supervisor/screen.js";

function gate() {
  const written: string[] = [];
  let flushes = 0;
  const screen = new ScreenGate({
    write: (line) => written.push(line),
    flushed: () => {
      flushes += 1;
      return Promise.resolve();
    },
  });
  return { screen, written, flushes: () => flushes };
}

describe("the screen gate", () => {
  it("writes at once while codex does not own the screen", async () => {
    const { screen, written } = gate();
    screen.line("one");
    await screen.drain();
    expect(written).toEqual(["one"]);
  });

  it("holds lines while codex owns the screen, then writes them in order", async () => {
    const { screen, written, flushes } = gate();
    screen.own();
    screen.line("switch line");
    screen.line("a notice");
    await Promise.resolve();
    expect(written).toEqual([]);
    await screen.release();
    expect(written).toEqual(["switch line", "a notice"]);
    expect(flushes()).toBeGreaterThan(0);
  });

  it("a line still being formed keeps its place; drain waits for it before codex may start", async () => {
    const { screen, written } = gate();
    let form!: (text: string) => void;
    screen.line(new Promise<string>((resolve) => (form = resolve)));
    screen.line("after it");
    const drained = screen.drain();
    expect(written).toEqual([]);
    form("the switch line");
    await drained;
    expect(written).toEqual(["the switch line", "after it"]);
  });

  it("a countdown's rewrite never lands before a line queued earlier", async () => {
    const { screen, written } = gate();
    let form!: (text: string) => void;
    screen.line(new Promise<string>((resolve) => (form = resolve)));
    screen.write(() => written.push("<countdown 12s>"));
    await Promise.resolve();
    expect(written).toEqual([]);
    form("run served by alice@…; exit 1");
    await screen.drain();
    expect(written).toEqual(["run served by alice@…; exit 1", "<countdown 12s>"]);
  });

  it("a line whose text fails is skipped; the rest still come out", async () => {
    const { screen, written } = gate();
    screen.line(Promise.reject(new Error("pool unreadable")));
    screen.line("next");
    await screen.drain();
    expect(written).toEqual(["next"]);
  });
});

describe("the session report", () => {
  it("sums failed heartbeats into one line, hands each warning out once, keeps all for --json", () => {
    const report = new SessionReport();
    report.heartbeatFailed(new Error("the pool is busy"));
    report.heartbeatFailed(new Error("the pool is busy: held by pid 9"));
    report.add("kept the newer copy of memo.md");
    expect(report.take()).toEqual([
      "kept the newer copy of memo.md",
      "could not renew this session's entry in the pool 2 times (the pool is busy: held by pid 9); other sessions may have taken its account meanwhile",
    ]);
    expect(report.take()).toEqual([]);
    report.heartbeatFailed(new Error("disk full"));
    expect(report.take()).toEqual([
      "could not renew this session's entry in the pool once (disk full); other sessions may have taken its account meanwhile",
    ]);
    expect(report.warnings).toHaveLength(3);
  });
});
