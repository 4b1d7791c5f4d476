/**
 * The app-server's Codex home in live mode (docs/codex-app-server.md §7): like an account overlay
 * (every entry of the user's real home linked, so sessions, config and history are shared) but
 * without auth.json. The app-server then holds only the access tokens we hand it, in memory: it can
 * neither use nor refresh a login we did not give it, and plain `codex` keeps its own sign-in.
 * One home per app-server, removed when it stops: two sessions never share what codex writes there.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import {
  accountHomePath,
  prepareSharedHome,
  reconcileAccountHome,
  type ReconcileReport,
} from "../codex/overlay-home.js";

/** `live-` cannot clash with our account ids (`acc_…`), which name the account overlays. */
export function newAppServerHomeName(): string {
  return `live-${randomBytes(6).toString("hex")}`;
}

export async function prepareAppServerHome(
  realHome: string,
  homesDir: string,
  name: string,
): Promise<string> {
  const home = accountHomePath(homesDir, name);
  await prepareSharedHome(realHome, homesDir, home);
  // Never linked (a local entry), but a home is ours to keep clean: no login may be found here.
  await fs.rm(path.join(home, "auth.json"), { force: true });
  return home;
}

/** After the app-server (and its clients) stopped: stray writes back to the real home, then gone. */
export async function removeAppServerHome(
  realHome: string,
  home: string,
): Promise<ReconcileReport> {
  const report = await reconcileAccountHome(realHome, home);
  // Only links and codex's per-home files are left; rm does not follow the links.
  await fs.rm(home, { recursive: true, force: true });
  return report;
}
