/**
 * The app-server a live session runs on, with its home and the relay in front of it
 * (docs/codex-app-server.md §7): started once per session, stopped (and its home folded back into
 * the real one) at the end. Its clients come and go (the TUI once; each `exec --remote` run).
 */
import { LiveController, type RefreshCallback } from "../app-server/controller.js";
import { APP_SERVER_HOME, foldAppServerHome, prepareAppServerHome } from "../app-server/home.js";
import { launchAppServer, type AppServer } from "../app-server/launcher.js";
import type { SuppliedAccount } from "../app-server/messages.js";
import type { CodexBinary } from "../codex/binary.js";
import type { ReconcileReport } from "../codex/overlay-home.js";
import { CodexMissingError, errorMessage, isCodexPoolError } from "../platform/errors.js";
import { LiveUnavailableError } from "./live-errors.js";
import type { Env } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";

/** How long the app-server may take to say where it listens (it takes 70–150 ms, §9). */
const START_TIMEOUT_MS = 20_000;

export interface LiveServerOptions {
  readonly binary: CodexBinary;
  readonly settings: Settings;
  readonly env: Env;
  readonly homesDir: string;
  /** The app-server's working directory (exec threads work there, §2). */
  readonly cwd: string;
  /** `-c` pairs for the server (an exec's own, src/codex/remote-args.ts serverOptions). */
  readonly config: readonly string[];
  readonly pdeathWrapper: string | null;
  /** The account every attaching client starts with. */
  readonly account: SuppliedAccount;
  readonly refresh: RefreshCallback;
}

export interface LiveServer {
  readonly appServer: AppServer;
  readonly controller: LiveController;
  /** Stops the relay and the server, then folds what codex wrote in its home into the real one. */
  stop(graceMs: number): Promise<ReconcileReport>;
}

export async function startLiveServer(options: LiveServerOptions): Promise<LiveServer> {
  const realHome = options.settings.codexHome;
  const home = await prepareAppServerHome(realHome, options.homesDir, APP_SERVER_HOME);
  let appServer: AppServer;
  try {
    appServer = await launchAppServer({
      binary: options.binary,
      settings: options.settings,
      env: options.env,
      realHome,
      home,
      cwd: options.cwd,
      startTimeoutMs: START_TIMEOUT_MS,
      pdeathWrapper: options.pdeathWrapper,
      configOverrides: options.config,
    });
  } catch (error) {
    await foldAppServerHome(realHome, home).catch(() => undefined); // the next session tries again
    // No codex at all: relaunching would fail the same way; its own message says what to do.
    if (error instanceof CodexMissingError) throw error;
    throw new LiveUnavailableError(errorMessage(error), {
      cause: error,
      ...(isCodexPoolError(error) ? { code: error.errorCode } : {}),
    });
  }
  let controller: LiveController;
  try {
    controller = await LiveController.start({
      appServer,
      account: options.account,
      refresh: options.refresh,
    });
  } catch (error) {
    await appServer.stop(1000).catch(() => undefined);
    await foldAppServerHome(realHome, home).catch(() => undefined);
    throw new LiveUnavailableError(`cannot start the relay: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  let stopping: Promise<ReconcileReport> | null = null;
  return {
    appServer,
    controller,
    stop(graceMs) {
      stopping ??= (async () => {
        await controller.close();
        await appServer.stop(graceMs);
        return foldAppServerHome(realHome, home);
      })();
      return stopping;
    },
  };
}
