/**
 * Answering codex's `account/chatgptAuthTokens/refresh` (docs/codex-app-server.md §3): the pool
 * owns every refresh, so the answer comes from the supervisor's callback. Codex asks every
 * connection at once (§8), so one refresh answers them all (single-flight); a malformed request
 * or a failed refresh is reported, and the relay then answers with an error rather than letting
 * codex wait out its 10 s (§7).
 */
import { errorMessage } from "../platform/errors.js";
import type { RefreshCallback } from "./controller-api.js";
import { AppServerError } from "./errors.js";
import type { LiveEvent } from "./events.js";
import {
  REFRESH_METHOD,
  RefreshParamsSchema,
  refreshResult,
  type SuppliedAccount,
} from "./messages.js";

export class RefreshAnswers {
  private refreshing: Promise<SuppliedAccount> | null = null;
  private readonly refresh: RefreshCallback;
  /** The answered account is the app-server's from now on. */
  private readonly applied: (account: SuppliedAccount) => void;
  private readonly emit: (event: LiveEvent) => void;

  constructor(
    refresh: RefreshCallback,
    applied: (account: SuppliedAccount) => void,
    emit: (event: LiveEvent) => void,
  ) {
    this.refresh = refresh;
    this.applied = applied;
    this.emit = emit;
  }

  /** The result to send back for a refresh request with `params`. */
  answer(params: unknown): Promise<unknown> {
    const parsed = RefreshParamsSchema.safeParse(params);
    if (!parsed.success) {
      this.emit({ type: "malformed", method: REFRESH_METHOD, detail: "params" });
      return Promise.reject(new AppServerError("malformed refresh request"));
    }
    this.refreshing ??= this.refresh(parsed.data)
      .then((account) => {
        this.applied(account);
        this.emit({
          type: "accountApplied",
          chatgptAccountId: account.chatgptAccountId,
          via: "refresh",
        });
        return account;
      })
      .catch((error: unknown) => {
        this.emit({
          type: "refreshFailed",
          previousAccountId: parsed.data.previousAccountId ?? null,
          message: errorMessage(error),
        });
        throw error;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing.then(refreshResult);
  }
}
