/** What every simulator route gets. */
import type { RequestLog } from "./log.js";
import type { SimState } from "./state.js";

export interface SimContext {
  readonly state: SimState;
  readonly log: RequestLog;
  /** Aborted when the simulator closes: ends scripted latency and hangs. */
  readonly closing: AbortSignal;
  /** http://127.0.0.1:PORT (issuer). */
  authUrl: string;
}
