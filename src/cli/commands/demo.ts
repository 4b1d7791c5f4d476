/**
 * `codex-pool demo [--tui] [--mode live|relaunch]`: the product's story on a machine with no ChatGPT
 * account and no network. A simulated backend with three accounts, throwaway homes, and the real
 * Codex CLI run through `codex-pool run`: the first account runs out mid-task and the session moves
 * on screen, live by default (codex stays attached to one app-server that is handed the next
 * account, docs/decisions.md decision 11), or by relaunching codex with `--mode relaunch`. On a
 * codex where live switching is not tested, `run` says it relaunches, and the demo says so too.
 * Everything is removed afterwards, also on Ctrl+C.
 */
import { spawn } from "node:child_process";
import { ExitCode, UsageError } from "../../platform/errors.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";
import { createDemoWorld, type DemoWorld } from "../demo/world.js";

const TASK = "Write a one-line haiku about sessions that survive a usage limit.";

interface Interrupt {
  signal: NodeJS.Signals | null;
}

/** Runs `codex-pool <args>` as a child in the demo world, with the terminal inherited. */
function step(
  ctx: CommandContext,
  world: DemoWorld,
  args: string[],
  options: { interactive: boolean; interrupt: Interrupt },
): Promise<number> {
  ctx.out.line(
    ctx.out.paint(
      "cyan",
      `$ codex-pool ${args.map((a) => (a.includes(" ") ? JSON.stringify(a) : a)).join(" ")}`,
    ),
  );
  const cli = process.argv[1];
  if (cli === undefined) throw new Error("cannot find the codex-pool script to run");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: world.env,
      cwd: world.project,
      // On a terminal codex gets it as stdin (exec does not read a TTY); elsewhere /dev/null.
      stdio: [
        options.interactive || ctx.out.interactive ? "inherit" : "ignore",
        "inherit",
        "inherit",
      ],
    });
    // A Ctrl+C on the terminal reaches the child by itself; a signal sent to us alone is passed on.
    const forward = (signal: NodeJS.Signals): void => {
      options.interrupt.signal = signal;
      if (!ctx.out.interactive || signal !== "SIGINT") child.kill(signal);
    };
    const onInt = (): void => forward("SIGINT");
    const onTerm = (): void => forward("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(code ?? (signal === "SIGKILL" ? 137 : 130));
    });
  });
}

function describeAccounts(ctx: CommandContext): void {
  const p = (c: Parameters<typeof ctx.out.paint>[0], t: string): string => ctx.out.paint(c, t);
  ctx.out.line("Three simulated ChatGPT accounts are in a throwaway pool:");
  ctx.out.line(
    `  1  alice@example.com  plus  ${p("yellow", "nearly out: her next turn hits the 5-hour limit")}`,
  );
  ctx.out.line(
    `  2  bob@example.com    plus  ${p("green", "healthy: 88% of the 5-hour window left")}`,
  );
  ctx.out.line(
    `  3  carol@example.com  pro   ${p("red", "exhausted until a reset a minute from now")}`,
  );
  ctx.out.line();
}

export async function demo(ctx: CommandContext, opts: CommandInput<"demo">): Promise<number> {
  const tui = opts.tui === true;
  const mode = opts.mode ?? "live";
  if (tui && !ctx.out.interactive) {
    throw new UsageError("demo --tui needs a terminal; run it in one, or run `codex-pool demo`");
  }
  const interrupt: Interrupt = { signal: null };
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupt.signal = signal;
  };
  // Until the first child runs, a Ctrl+C must still clean up rather than kill us outright.
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let world: DemoWorld | null = null;
  try {
    // First, so a machine without codex gets the one line saying how to install it, and no more.
    world = await createDemoWorld(ctx.env, { tui });
    ctx.out.line(
      ctx.out.paint("bold", "codex-pool demo") +
        " — the real Codex CLI against a simulated ChatGPT backend on 127.0.0.1.",
    );
    ctx.out.line("No account, no network; your own ~/.codex and ~/.codex-pool are not touched.");
    ctx.out.line();
    describeAccounts(ctx);
    const run = async (args: string[], interactive = false): Promise<number | null> => {
      if (interrupt.signal !== null || world === null) return null;
      const code = await step(ctx, world, args, { interactive, interrupt });
      ctx.out.line();
      return interrupt.signal !== null ? null : code;
    };
    await run(["status"]);
    const how =
      mode === "live"
        ? "codex stays attached to an app-server of codex-pool's, which is handed bob's sign-in"
        : "codex-pool stops codex and resumes the session under bob";
    if (tui) {
      ctx.out.line("The TUI starts on alice. Type a prompt and press Enter: she answers once.");
      ctx.out.line(`Your second prompt hits her limit: ${how}, and the task goes on.`);
      ctx.out.line("Press Ctrl+C twice (or type /quit) to leave codex when you are done.");
      ctx.out.line();
      await run(["run", "--mode", mode, "--account", "1"], true);
    } else {
      ctx.out.line("Running a task on alice, pinned. Her account runs out mid-task; watch the");
      ctx.out.line(`session move: ${how}.`);
      ctx.out.line();
      const code = await run([
        "run",
        "--mode",
        mode,
        "--account",
        "1",
        "--",
        "exec",
        "--skip-git-repo-check",
        TASK,
      ]);
      if (code !== null && code !== 0) ctx.out.error(`the supervised run exited ${code}`);
    }
    await run(["status"]);
    if (interrupt.signal === null) {
      ctx.out.line("That is codex-pool: the session kept its whole history and went on under bob.");
      ctx.out.line(
        "With real accounts: codex-pool login (or import), codex-pool status, codex-pool run.",
      );
    }
  } finally {
    await world?.dispose();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (interrupt.signal === "SIGTERM") return ExitCode.terminated;
  return interrupt.signal !== null ? ExitCode.interrupted : 0;
}
