/**
 * The terminal after a session that switched accounts once, read from every byte written to it
 * (tmux pipe-pane, real codex TUI, simulator): codex A is stopped with SIGTERM and undoes nothing
 * itself, so codex-pool must pop every kitty keyboard level it pushed, leave the alternate screen,
 * and turn bracketed paste and focus reporting off — before B starts and at the end. And no line of
 * codex-pool's is ever written while a codex TUI has the screen.
 */
import { describe, expect, it, onTestFailed } from "vitest";
import { RELAUNCH_MODE } from "../helpers/codex-bin.js";
import { fixture, haveCodex } from "./e2e-helpers.js";
import { haveTmux, startPane, submitPrompt } from "./tmux.js";

const ESC = "\u001b";

interface Sequence {
  readonly at: number;
  readonly text: string;
}

/** Every CSI sequence codex or we wrote, in order. */
function sequences(raw: string): Sequence[] {
  const out: Sequence[] = [];
  for (const m of raw.matchAll(/\u001b\[[<>=?]?[0-9;]*[ ]?[A-Za-z~]/g)) {
    out.push({ at: m.index, text: m[0] });
  }
  return out;
}

/**
 * Replays kitty keyboard pushes and pops. Some terminals keep one stack per screen (kitty), some
 * one for both: the stacks must end empty in both models.
 */
function kittyDepth(seqs: readonly Sequence[]): { perScreen: number; single: number } {
  const stacks = { main: 0, alt: 0 };
  let screen: "main" | "alt" = "main";
  let single = 0;
  for (const { text } of seqs) {
    if (text === `${ESC}[?1049h`) screen = "alt";
    else if (text === `${ESC}[?1049l`) screen = "main";
    else if (/^\u001b\[>\d*u$/.test(text)) {
      stacks[screen] += 1;
      single += 1;
    } else if (/^\u001b\[<\d*u$/.test(text)) {
      const n = Number(text.slice(3, -1) || "1");
      stacks[screen] = Math.max(0, stacks[screen] - n);
      single = Math.max(0, single - n);
    }
  }
  return { perScreen: stacks.main + stacks.alt, single };
}

function last(seqs: readonly Sequence[], mode: string): string | undefined {
  return seqs.filter((s) => s.text.startsWith(`${ESC}[?${mode}`)).at(-1)?.text;
}

describe.skipIf(!haveCodex || !haveTmux)("the terminal across a relaunch (tmux, raw bytes)", () => {
  it("ends with every kitty level popped, paste and focus reporting off, our lines off-screen", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 0 } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    // Two codex TUIs, one after the other: relaunch mode (live mode keeps one, live-tui.e2e).
    await using pane = await startPane(
      fx.poolHome,
      ["run"],
      { ...fx.env, ...RELAUNCH_MODE },
      fx.project,
      { raw: true },
    );
    onTestFailed(async () => {
      // What a person would have seen, and what reached the service, to explain a failure.
      const requests = fx.sim.requests().map((r) => `${r.kind} ${r.accountId ?? "-"} ${r.status}`);
      process.stderr.write(`pane:\n${await pane.capture()}\nrequests:\n${requests.join("\n")}\n`);
    });
    await pane.waitFor("Ask Codex");
    const turns = () => fx.sim.requests().filter((r) => r.kind === "turn");
    await submitPrompt(pane, "first task", () => turns().length);
    await fx.sim.waitForRequest((r) => r.kind === "turn" && r.accountId === "acct-B", 60_000);
    await pane.waitFor("from account acct-B");
    // The user quits B the ordinary way (Ctrl+C on an idle TUI).
    await pane.waitFor("Ask Codex");
    await pane.type("\u0003");
    const text = await pane.waitFor(/ran on #1 alice@… → #2 bob@…/);
    expect(await pane.exited()).toBe(0);
    expect(text).toMatch(
      /session \w{8}… moved from #1 alice@… .* to #2 bob@… .*: usage limit reached/,
    );

    const raw = (await pane.raw()).toString("latin1");
    const seqs = sequences(raw);
    const pushes = seqs.filter((s) => /^\u001b\[>\d*u$/.test(s.text)).length;
    const pops = seqs.filter((s) => /^\u001b\[<\d*u$/.test(s.text)).length;
    expect(pushes).toBeGreaterThanOrEqual(4); // two codex start-ups (or more), two levels each
    expect(pops).toBeGreaterThanOrEqual(pushes);
    expect(kittyDepth(seqs)).toEqual({ perScreen: 0, single: 0 });
    expect(last(seqs, "2004")).toBe(`${ESC}[?2004l`);
    expect(last(seqs, "1004")).toBe(`${ESC}[?1004l`);
    expect(last(seqs, "1049")).toBe(`${ESC}[?1049l`);
    expect(last(seqs, "25")).toBe(`${ESC}[?25h`);

    // Every codex after the first started on a clean terminal: before its first byte (its
    // start-up turns bracketed paste on first), the previous one's modes were undone.
    const starts = seqs.filter((s) => s.text === `${ESC}[?2004h`).map((s) => s.at);
    expect(starts.length).toBeGreaterThanOrEqual(2);
    for (const start of starts.slice(1)) {
      const before = seqs.filter((s) => s.at < start);
      expect(kittyDepth(before)).toEqual({ perScreen: 0, single: 0 });
      expect(last(before, "2004")).toBe(`${ESC}[?2004l`);
      expect(last(before, "1004")).toBe(`${ESC}[?1004l`);
    }

    // Every line of ours was written while no codex had the (alternate) screen.
    let onAlt = false;
    const ours = [...raw.matchAll(/codex-pool: /g)].map((m) => m.index);
    expect(ours.length).toBeGreaterThanOrEqual(2); // the switch line and the closing line
    const screenChanges = seqs.filter((s) => /^\u001b\[\?1049[hl]$/.test(s.text));
    for (const at of ours) {
      onAlt = screenChanges.filter((s) => s.at < at).at(-1)?.text === `${ESC}[?1049h`;
      expect(onAlt).toBe(false);
    }
  }, 120_000);
});
