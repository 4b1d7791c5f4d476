/** The marker line of the optional `codex` shim; the binary resolver skips any file holding it. */
export const SHIM_MARKER = "# codex-pool shim: runs codex supervised by codex-pool";
