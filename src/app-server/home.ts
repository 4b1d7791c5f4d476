/**
 * The app-server's Codex home in live mode (docs/codex-app-server.md §7): like an account overlay
 * (every entry of the user's real home linked, so sessions, config and history are shared) but
 * without auth.json. The app-server then holds only the access tokens we hand it, in memory: it can
 * neither use nor refresh a login we did not give it, and plain `codex` keeps its own sign-in.
 *
 * One home, `<pool home>/homes/live`, for every live session, kept like the account overlays:
 * codex records each session's rollout by the path it wrote it under (`<home>/sessions/…`, in the
 * state database shared with the real home), and `codex resume <id>` finds the session by that
 * path only. A home removed after its session left every such session unresumable ("no rollout
 * found for thread id", observed on 0.171, docs/codex-app-server.md §8). Files codex writes there
 * are folded back into the real home after each session (`foldAppServerHome`), as for overlays.
 */
import fs from "node:fs/promises";
import path from "node:path";
import {
  accountHomePath,
  prepareSharedHome,
  reconcileAccountHome,
  type ReconcileReport,
} from "../codex/overlay-home.js";

/** `live` cannot clash with our account ids (`acc_…`), which name the account overlays. */
export const APP_SERVER_HOME = "live";

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

/** After a session: what codex wrote into the home goes back to the real home (links stay). */
export function foldAppServerHome(realHome: string, home: string): Promise<ReconcileReport> {
  return reconcileAccountHome(realHome, home);
}

/**
 * A home of its own, after its app-server stopped: stray writes back to the real home, then gone
 * (tests; sessions made there can no longer be resumed by id, see above).
 */
export async function removeAppServerHome(
  realHome: string,
  home: string,
): Promise<ReconcileReport> {
  const report = await foldAppServerHome(realHome, home);
  // Only links and codex's per-home files are left; rm does not follow the links.
  await fs.rm(home, { recursive: true, force: true });
  return report;
}
