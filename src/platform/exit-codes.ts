/**
 * The one table of how codex-pool fails: each class of failure has a stable code (the `code` of a
 * `--json` error object), an exit code, what it means and what to do. `--help`, the README's table
 * (`npm run docs`, kept in sync by a test) and the JSON errors are all made from it.
 *
 * Why these numbers:
 * - 0, 2, 75, 130 and 143 are fixed by the command-line contract (docs/decisions.md, "The command
 *   line"): 0 success, 2 bad usage, 75 every account exhausted, 128 + the signal when interrupted;
 *   `run` passes codex's own exit code through (codex exits 1 when a run fails, docs/codex-cli.md
 *   §4, and 128 + N on a signal, §5.1), so our own classes keep clear of 1 where they can.
 * - Every other class takes its number from BSD's sysexits.h, the family scripts already know:
 *   75 EX_TEMPFAIL means "the same command may work later" — a busy pool lock, an unreachable
 *   server and an exhausted pool all say exactly that, so they share it and their JSON codes tell
 *   them apart; 77 EX_NOPERM "a person must sign in"; 78 EX_CONFIG "fix a setting"; 69
 *   EX_UNAVAILABLE "a program we need is missing"; 65 EX_DATAERR "a file of ours is damaged";
 *   66 EX_NOINPUT "the input file you named is unusable"; 67 EX_NOUSER "no such account";
 *   76 EX_PROTOCOL "the server answered something we cannot read"; 70 EX_SOFTWARE "a bug".
 *   A script branches on the exit code ("retry later" vs "fix your config" vs "sign in"), and
 *   reads the JSON code when it needs the finer class.
 * - 1 stays "the command failed" for refusals that fit no class (and doctor's "problems found").
 * - EX_USAGE (64) is not used: 2 is the contract's (and commander's) bad-usage code.
 */
export const ERROR_CODES = [
  "failed",
  "usage",
  "pool_corrupt",
  "auth_file",
  "account_not_found",
  "codex_unavailable",
  "internal",
  "busy",
  "network",
  "pool_exhausted",
  "bad_response",
  "needs_login",
  "auth_failed",
  "config",
  "interrupted",
  "terminated",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ExitClass {
  /** The process exit code. */
  readonly exit: number;
  /** The sysexits.h name the number comes from, when it does. */
  readonly sysexits: string | null;
  /** What happened, in a few words (README and --help). */
  readonly meaning: string;
  /** What to do; the `hint` of a JSON error unless the error carries a more precise one. */
  readonly hint: string;
}

export const EXIT_CLASSES = {
  failed: {
    exit: 1,
    sysexits: null,
    meaning: "the command failed for a reason no class below covers (doctor: problems found)",
    hint: "the message says what went wrong and what to do",
  },
  usage: {
    exit: 2,
    sysexits: null,
    meaning: "bad usage: an unknown command or option, a missing or invalid argument",
    hint: "see `codex-pool <command> --help`",
  },
  pool_corrupt: {
    exit: 65,
    sysexits: "EX_DATAERR",
    meaning: "the pool file cannot be read or is not in the pool format (it is never overwritten)",
    hint: "restore the backup the message names, then run `codex-pool doctor`",
  },
  auth_file: {
    exit: 66,
    sysexits: "EX_NOINPUT",
    meaning: "a Codex auth.json is missing, unreadable, or holds no ChatGPT sign-in",
    hint: "sign in with `codex login` first, or name another file with --auth-file",
  },
  account_not_found: {
    exit: 67,
    sysexits: "EX_NOUSER",
    meaning: "no account matches the number, email or id given",
    hint: "`codex-pool list` shows the accounts and their numbers",
  },
  codex_unavailable: {
    exit: 69,
    sysexits: "EX_UNAVAILABLE",
    meaning: "the Codex CLI is not installed, or cannot be started",
    hint: "install the Codex CLI as the message says, or set CODEX_POOL_CODEX_BIN to its path",
  },
  internal: {
    exit: 70,
    sysexits: "EX_SOFTWARE",
    meaning: "an unexpected error: a bug in codex-pool",
    hint: "run the command again with --debug and report the stack trace",
  },
  busy: {
    exit: 75,
    sysexits: "EX_TEMPFAIL",
    meaning:
      "the pool is locked by another codex-pool beyond the wait, or changed underneath, or the account's refresh token belongs to a running session's codex",
    hint: "try again in a moment; `codex-pool doctor` shows who holds the lock",
  },
  network: {
    exit: 75,
    sysexits: "EX_TEMPFAIL",
    meaning: "a server could not be reached, timed out, or failed (5xx)",
    hint: "check the network and try again",
  },
  pool_exhausted: {
    exit: 75,
    sysexits: "EX_TEMPFAIL",
    meaning: "every account is out of quota (`run --no-wait`, or the wait for a reset ran out)",
    hint: "`codex-pool status` shows when each account resets",
  },
  bad_response: {
    exit: 76,
    sysexits: "EX_PROTOCOL",
    meaning: "a server answered something codex-pool cannot read",
    hint: "try again later; if it persists, codex-pool may need an update",
  },
  needs_login: {
    exit: 77,
    sysexits: "EX_NOPERM",
    meaning:
      "no usable sign-in: the account's sign-in expired or was revoked, or the pool is empty",
    hint: "sign in with `codex-pool login` (or add an account with `codex-pool import`)",
  },
  auth_failed: {
    exit: 77,
    sysexits: "EX_NOPERM",
    meaning: "signing in failed or was refused",
    hint: "run `codex-pool login` again",
  },
  config: {
    exit: 78,
    sysexits: "EX_CONFIG",
    meaning: "an invalid setting, an unreadable config.toml, or an unusable CODEX_HOME",
    hint: "fix the setting the message names; `codex-pool --help` lists every setting",
  },
  interrupted: {
    exit: 130,
    sysexits: null,
    meaning: "interrupted (Ctrl+C, SIGINT)",
    hint: "run the command again",
  },
  terminated: {
    exit: 143,
    sysexits: null,
    meaning: "stopped by SIGTERM",
    hint: "run the command again",
  },
} as const satisfies Record<ErrorCode, ExitClass>;

export function exitCodeOf(code: ErrorCode): number {
  return EXIT_CLASSES[code].exit;
}
