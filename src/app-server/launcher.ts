/**
 * Starting `codex app-server` for live mode (docs/codex-app-server.md §2, §7):
 *
 *   codex -c … app-server --listen ws://127.0.0.1:0 --ws-auth capability-token --ws-token-sha256 <hex>
 *
 * with CODEX_HOME = a home without auth.json (home.ts), CODEX_SQLITE_HOME = the real home, the
 * child environment and `-c` overrides every codex child gets (codex/child-env.ts), and the
 * session's project directory as its working directory (`codex exec --remote` threads take the
 * server's, §8). Port 0 lets the kernel choose; the server prints the port it bound on stderr.
 * Its stderr is drained for as long as it runs and never reaches the terminal (the TUI owns it);
 * the last few KB are kept for an error message.
 *
 * It runs in a process group of its own: the terminal's signals are for codex and for us (a Ctrl+C
 * in `exec` would otherwise end the server under the client, a SIGINT it exits on). Its life is
 * tied to ours instead: with a parent-death wrapper (`setpriv --pdeathsig SIGTERM`, the one the
 * relaunch path uses, src/supervisor/launch.ts) the kernel stops it when we die, even by SIGKILL;
 * it ignores its stdin closing (docs/codex-app-server.md §8), so nothing else would.
 */
import type { ChildProcess, SpawnOptions } from "node:child_process";
import type { CodexBinary } from "../codex/binary.js";
import { buildChildEnv, codexConfigOverrides } from "../codex/child-env.js";
import { spawnCodex, type ChildOutcome } from "../codex/spawn.js";
import { errorMessage, isCodexPoolError } from "../platform/errors.js";
import type { Env } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";
import { newCapabilityToken, tokenSha256Hex } from "./capability.js";
import { AppServerError } from "./errors.js";

export interface AppServerLaunchOptions {
  binary: CodexBinary;
  settings: Settings;
  /** Our environment (never mutated). */
  env: Env;
  /** The user's real Codex home (shared SQLite state). */
  realHome: string;
  /** A prepared home without auth.json (prepareAppServerHome). */
  home: string;
  /** The session's project directory. */
  cwd: string;
  /** Give up when the server has not said where it listens by then. */
  startTimeoutMs: number;
  /** `setpriv` for a parent-death signal (src/supervisor/launch.ts findPdeathWrapper), or null. */
  pdeathWrapper?: string | null;
  /** Extra `-c key=value` overrides, before ours (ours win: docs/decisions.md decision 10). */
  configOverrides?: readonly string[];
  spawn?: (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;
}

export interface AppServer {
  /** ws://127.0.0.1:PORT */
  readonly url: string;
  /** Its capability token (a secret; the server only knows the SHA-256). */
  readonly token: string;
  readonly pid: number | undefined;
  readonly home: string;
  /** The exact argv it was started with (no secret in it). */
  readonly argv: readonly string[];
  /** Settles when the process is gone, whoever stopped it. */
  readonly exited: Promise<ChildOutcome>;
  /** The end of what it wrote on stderr (diagnostics). */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the outcome. */
  stop(graceMs: number): Promise<ChildOutcome>;
}

const TAIL_BYTES = 4096;
// The ANSI colours of codex's log lines.
const ANSI = /\u001b\[[0-9;]*m/g;
const LISTENING = /listening on: ws:\/\/127\.0\.0\.1:(\d+)/;

/** The argv after the binary. `--listen` takes loopback only; port 0 = any free one. */
export function appServerArgv(
  settings: Settings,
  tokenSha256: string,
  userOverrides: readonly string[] = [],
): string[] {
  return [
    ...userOverrides,
    ...codexConfigOverrides(settings),
    "app-server",
    "--listen",
    "ws://127.0.0.1:0",
    "--ws-auth",
    "capability-token",
    "--ws-token-sha256",
    tokenSha256,
  ];
}

export async function launchAppServer(options: AppServerLaunchOptions): Promise<AppServer> {
  const token = newCapabilityToken();
  const argv = appServerArgv(options.settings, tokenSha256Hex(token), options.configOverrides);
  const env = buildChildEnv({
    base: options.env,
    settings: options.settings,
    codexHome: options.home,
    sqliteHome: options.realHome,
    extra: options.binary.env,
  });
  const spawned = spawnCodex({
    binary: options.binary,
    args: argv,
    pdeathWrapper: options.pdeathWrapper ?? null,
    env,
    cwd: options.cwd,
    stdio: ["ignore", "ignore", "pipe"],
    ownGroup: true,
    ...(options.spawn !== undefined ? { spawn: options.spawn } : {}),
  });
  const { child } = spawned;
  let tail = "";
  let seen = "";
  let port: number | null = null;
  let onPort: (p: number) => void = () => {};
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-TAIL_BYTES);
    if (port !== null) return;
    seen = (seen + chunk.replace(ANSI, "")).slice(-TAIL_BYTES);
    const match = LISTENING.exec(seen);
    if (match !== null) {
      port = Number(match[1]);
      onPort(port);
    }
  });
  const exited = spawned.exited;
  const stop = async (graceMs: number): Promise<ChildOutcome> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }, graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    const bound = await Promise.race([
      new Promise<number>((resolve) => (onPort = resolve)),
      exited.then((outcome) => {
        throw new AppServerError(
          `codex app-server exited before listening (exit ${outcome.code128}): ${lastLine(tail)}`,
        );
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new AppServerError(
                `codex app-server did not start listening within ${options.startTimeoutMs} ms`,
              ),
            ),
          options.startTimeoutMs,
        );
      }),
    ]);
    return {
      url: `ws://127.0.0.1:${bound}`,
      token,
      pid: child.pid,
      home: options.home,
      argv,
      exited,
      stderrTail: () => tail,
      stop,
    };
  } catch (error) {
    await stop(1000).catch(() => undefined); // nothing of its own to lose: it never listened
    if (isCodexPoolError(error)) throw error; // e.g. CodexMissingError, with its install hint
    throw new AppServerError(`cannot start codex app-server: ${errorMessage(error)}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

function lastLine(text: string): string {
  const lines = text
    .replace(ANSI, "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return lines.at(-1) ?? "(no output)";
}
