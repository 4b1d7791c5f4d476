/**
 * The simulator's mutable world: account scripts, served-turn counters and the token registry.
 * Access tokens are looked up here (not just decoded), so a token the simulator never issued is
 * rejected like the real backend would.
 */
import { mintAccessToken, mintIdToken, mintRefreshToken, type Identity } from "./mint.js";
import type { MintedTokens, SimAccountSpec } from "./types.js";

const FIVE_HOURS = 5 * 3600;
const SEVEN_DAYS = 7 * 86400;

export interface AccountState {
  spec: SimAccountSpec;
  /** Real turns answered (not prewarms, titles or refused turns). */
  turnsServed: number;
  /** Set once a turn was refused with usage_limit_reached. */
  limitHit: boolean;
  /** The refused window has reset: the account serves again without its turn limit. */
  refilled: boolean;
  primaryResetAt: number;
  secondaryResetAt: number;
  refreshes: number;
  generation: number;
  signedIn: boolean;
}

interface AccessRecord {
  accountId: string;
  exp: number;
}

interface RefreshRecord {
  accountId: string;
  spent: boolean;
}

export type RefreshOutcome =
  | { ok: true; accountId: string; tokens: MintedTokens; expiresIn: number }
  | { ok: false; accountId: string | null; reason: "reused" | "unknown" };

export class SimState {
  readonly accounts = new Map<string, AccountState>();
  private readonly access = new Map<string, AccessRecord>();
  private readonly refresh = new Map<string, RefreshRecord>();
  issuer = "";

  nowSec(): number {
    return Math.floor(Date.now() / 1000);
  }

  setAccount(spec: SimAccountSpec): void {
    const now = this.nowSec();
    const previous = this.accounts.get(spec.accountId);
    this.accounts.set(spec.accountId, {
      spec: structuredClone(spec),
      turnsServed: 0,
      limitHit: false,
      refilled: false,
      primaryResetAt: spec.usage?.primaryResetAt ?? spec.turns?.resetsAt ?? now + FIVE_HOURS,
      secondaryResetAt: spec.usage?.secondaryResetAt ?? now + SEVEN_DAYS,
      refreshes: previous?.refreshes ?? 0,
      generation: previous?.generation ?? 0,
      signedIn: previous?.signedIn ?? false,
    });
  }

  patchAccount(accountId: string, patch: Partial<SimAccountSpec>): void {
    const state = this.mustGet(accountId);
    const { usage, turns, ...rest } = patch;
    state.spec = {
      ...state.spec,
      ...structuredClone(rest),
      accountId,
      usage: { ...state.spec.usage, ...structuredClone(usage) },
      turns: { ...state.spec.turns, ...structuredClone(turns) },
    };
    if (usage?.primaryResetAt !== undefined) state.primaryResetAt = usage.primaryResetAt;
    if (usage?.secondaryResetAt !== undefined) state.secondaryResetAt = usage.secondaryResetAt;
    if (turns?.resetsAt !== undefined && usage?.primaryResetAt === undefined) {
      state.primaryResetAt = turns.resetsAt;
    }
  }

  mustGet(accountId: string): AccountState {
    const state = this.accounts.get(accountId);
    if (state === undefined) throw new Error(`simulator: unknown account ${accountId}`);
    return state;
  }

  /** Finds an account by id or email (case-insensitive email). */
  find(hint: string): AccountState | undefined {
    const lower = hint.toLowerCase();
    for (const state of this.accounts.values()) {
      if (state.spec.accountId === hint || state.spec.email.toLowerCase() === lower) return state;
    }
    return undefined;
  }

  /** Who a fresh sign-in without a hint signs in: the first account not yet signed in, else the first. */
  nextToSignIn(): AccountState | undefined {
    const all = [...this.accounts.values()];
    return all.find((a) => !a.signedIn) ?? all[0];
  }

  identity(state: AccountState): Identity {
    return {
      accountId: state.spec.accountId,
      email: state.spec.email,
      plan: state.spec.plan ?? "plus",
    };
  }

  mint(accountId: string, ttlSeconds?: number): MintedTokens {
    const state = this.mustGet(accountId);
    const now = this.nowSec();
    const ttl = ttlSeconds ?? state.spec.accessTokenTtlSeconds ?? 3600;
    const who = this.identity(state);
    state.generation += 1;
    const tokens: MintedTokens = {
      idToken: mintIdToken(who, this.issuer, now),
      accessToken: mintAccessToken(who, this.issuer, now, ttl),
      refreshToken: mintRefreshToken(accountId, state.generation),
    };
    this.access.set(tokens.accessToken, { accountId, exp: now + ttl });
    this.refresh.set(tokens.refreshToken, { accountId, spent: false });
    return tokens;
  }

  /** The access token expires now (as if its lifetime were over); false if never issued. */
  expireAccessToken(token: string): boolean {
    const record = this.access.get(token);
    if (record === undefined) return false;
    record.exp = Math.min(record.exp, this.nowSec());
    return true;
  }

  /** The account a bearer token belongs to, or why it is refused. */
  checkAccess(
    token: string,
  ): { accountId: string } | { refused: "expired" | "unknown"; accountId: string | null } {
    const record = this.access.get(token);
    if (record === undefined || !this.accounts.has(record.accountId))
      return { refused: "unknown", accountId: null };
    if (record.exp <= this.nowSec()) return { refused: "expired", accountId: record.accountId };
    return { accountId: record.accountId };
  }

  /** Rotates a refresh token: each one works once; a spent one is "reused". */
  rotate(refreshToken: string): RefreshOutcome {
    const record = this.refresh.get(refreshToken);
    if (record === undefined || !this.accounts.has(record.accountId)) {
      return { ok: false, accountId: null, reason: "unknown" };
    }
    if (record.spent) return { ok: false, accountId: record.accountId, reason: "reused" };
    record.spent = true;
    const state = this.mustGet(record.accountId);
    state.refreshes += 1;
    const tokens = this.mint(record.accountId);
    return {
      ok: true,
      accountId: record.accountId,
      tokens,
      expiresIn: state.spec.accessTokenTtlSeconds ?? 3600,
    };
  }

  /** Revocation spends a refresh token (a later use is then reported as reused). */
  revoke(token: string): string | null {
    const record = this.refresh.get(token);
    if (record !== undefined) {
      record.spent = true;
      return record.accountId;
    }
    const access = this.access.get(token);
    if (access !== undefined) {
      this.access.delete(token);
      return access.accountId;
    }
    return null;
  }
}
