/**
 * One "machine" running a supervised session on the shared pool, for the tests and the bench
 * (docs/team-pool.md "Tests"): the real runner and state machine (src/supervisor/run-session.ts),
 * the real selection and claim (choose.ts), our real lease (live-sessions.ts) and the real
 * early wake (usable-again.ts), on the store the environment selects (CODEX_POOL_DATABASE_URL).
 * Only codex is a stand-in, driven over stdin, so a test decides when turns start and end.
 * The quota check returns what the pool holds (no network).
 *
 * argv: <poolHome> <options JSON: SessionWorkerOptions>
 * stdin: "bind <id>", "turn-start", "turn-end", "exit" (codex ends with 0), "stop" (right after
 * its next lease renewal commits, it prints "stopped" and stops itself with SIGSTOP: between two
 * transactions, as a machine put to sleep usually is).
 * stdout, one line each: "start <acc>", "move <from> <to>", "stop", "leased <acc> <phase>" (our
 * lease written), "lost <acc> by <who>", "notice <text>", "switch <from> <to> <cause>",
 * "countdown", "done <code>".
 */
import readline from "node:readline";
import { poolPaths } from "../platform/paths.js";
import { loadSettings } from "../platform/settings.js";
import { systemClock } from "../platform/clock.js";
import { errorMessage } from "../platform/errors.js";
import { describeHolder } from "../pool/live-sessions.js";
import { openPoolStore } from "../pool/open-store.js";
import type { PoolStore } from "../pool/store.js";
import { floorsFromSettings } from "../quota/floors.js";
import { chooseAccount, type ChooseDeps } from "../supervisor/choose.js";
import {
  defaultAliveCheck,
  LiveSessionRecord,
  type SessionMode,
} from "../supervisor/live-sessions.js";
import type { MachineConfig } from "../supervisor/machine.js";
import {
  startSession,
  type SessionControl,
  type SessionPorts,
  type SwitchEvent,
  type SwitchingPort,
} from "../supervisor/run-session.js";
import { usableAgain } from "../supervisor/usable-again.js";

export interface SessionWorkerOptions {
  heartbeatMs: number;
  ttlMs: number;
  /** The machine's name in the lease (default: this host). */
  host?: string;
  /** How the stand-in session moves (default relaunch: its codex holds the refresh token). */
  mode?: SessionMode;
  /** How often the early wake looks where the store cannot push. */
  pollMs?: number;
}

const [poolHome = "", optionsJson = "{}"] = process.argv.slice(2);
const options = JSON.parse(optionsJson) as SessionWorkerOptions;
const env = { ...process.env, CODEX_POOL_HOME: poolHome };
const { settings } = loadSettings({ env });
const clock = systemClock;
const store = openPoolStore({ settings, env, paths: poolPaths(poolHome), clock });
const floors = floorsFromSettings(settings);
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Set by "stop": the next renewal, once committed, stops this process. */
let stopAfterRenewal = false;
const renewals: PoolStore = {
  kind: store.kind,
  location: store.location,
  read: () => store.read(),
  subscribe: (onChange, opts) => store.subscribe(onChange, opts),
  close: () => store.close(),
  transact: async (change, opts) => {
    const result = await store.transact(change, opts);
    if (stopAfterRenewal) {
      stopAfterRenewal = false;
      await new Promise<void>((resolve) =>
        process.stdout.write("stopped\n", () => {
          process.kill(process.pid, "SIGSTOP");
          resolve();
        }),
      );
    }
    return result;
  },
};

const live = new LiveSessionRecord({
  store: renewals,
  clock,
  heartbeatMs: options.heartbeatMs,
  ttlMs: options.ttlMs,
  ...(options.host !== undefined ? { me: { pid: process.pid, host: options.host } } : {}),
  onError: (error) => say(`notice heartbeat failed: ${errorMessage(error)}`),
});
live.mode = options.mode;

let session: SessionControl | null = null;
const chooseDeps: ChooseDeps = {
  store,
  clock,
  floors,
  isAlive: defaultAliveCheck,
  live,
  pinned: null,
  sessionId: () => session?.state().ctx.sessionId ?? null,
  // No network: the pool's own snapshot stands for a fresh check.
  probe: (account) =>
    Promise.resolve(
      account.quota === null
        ? { kind: "failed", error: { at: new Date().toISOString(), kind: "network", message: "-" } }
        : { kind: "ok", snapshot: account.quota },
    ),
};

/** The stand-in codex: it "runs" as soon as it is started, and reports what stdin tells it. */
let emit: (event: SwitchEvent) => void = () => undefined;
let running = false;
const codex: SwitchingPort = {
  start: (request) => {
    running = true;
    say(`start ${request.account.id}`);
    return Promise.resolve();
  },
  move: (request) => {
    running = true;
    say(`move ${request.from.id} ${request.to.id}`);
    return Promise.resolve();
  },
  stop: () => {
    say("stop");
    running = false;
    setImmediate(() => emit({ type: "exited", code: 143 }));
    return Promise.resolve();
  },
  running: () => running,
  release: () => Promise.resolve(null),
  close: () => Promise.resolve(),
};

let countdown = false;
const ports: SessionPorts = {
  clock,
  select: (request, signal) => chooseAccount(chooseDeps, request, signal),
  prewarm: () => Promise.resolve(null),
  publish: async (entry) => {
    await live.set(entry);
    say(`leased ${entry.account} ${entry.phase}`);
  },
  onLeaseLost: (listener) =>
    live.onLost((lost) => {
      const by = lost.by.map(describeHolder).join(", ");
      say(`lost ${lost.account} by ${by}`);
      listener({ account: lost.account, by });
    }),
  usableAgain: (signal) =>
    usableAgain(
      { store, clock, floors, ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}) },
      signal,
    ),
  output: {
    notice: (message) => say(`notice ${message}`),
    announceSwitch: (_id, from, to, cause) => say(`switch ${from.id} ${to.id} ${cause}`),
    attribute: () => undefined,
    countdown: (ms) => {
      if (ms !== null && !countdown) say("countdown");
      countdown = ms !== null;
    },
  },
  switcher: (e) => {
    emit = e;
    return codex;
  },
};

const config: MachineConfig = {
  mode: "tui",
  maxSwitches: 5,
  continueAfterLimit: true,
  canWait: true,
  maxWaitMs: 3600_000,
};
const control = startSession(ports, { config, sessionId: null });
session = control;

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const [command, arg] = line.split(" ");
  if (command === "bind" && arg !== undefined) emit({ type: "bound", sessionId: arg });
  else if (command === "turn-start") emit({ type: "turnStarted" });
  else if (command === "turn-end") emit({ type: "turnEnded", limitHit: false });
  else if (command === "stop") stopAfterRenewal = true;
  else if (command === "exit") {
    running = false;
    emit({ type: "exited", code: 0 });
  }
});

let code = 1;
try {
  code = (await control.done).code;
} catch (error) {
  say(`notice ${errorMessage(error)}`);
} finally {
  rl.close();
  await live.close().catch(() => undefined);
  await store.close();
}
say(`done ${code}`);
