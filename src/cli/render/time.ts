/**
 * Times as people read them in a table. The one formatter lives in src/platform/time-text.ts so the
 * supervisor's lines and `status` speak alike; re-exported here for the renderers.
 */
export { formatClock, formatDuration, formatIn, formatReset } from "../../platform/time-text.js";
