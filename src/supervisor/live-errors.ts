/**
 * Live mode's own failure (src/supervisor/live.ts), in a module of its own: the switcher tells it
 * apart to fall back to relaunching, without loading live mode's parts (the relay, `ws`) in a
 * session that relaunches.
 */
import { CodexPoolError } from "../platform/errors.js";

/** Live mode cannot serve this session (its caller relaunches instead, switcher.ts). */
export class LiveUnavailableError extends CodexPoolError {}
