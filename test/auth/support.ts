/** Shared pieces of the auth tests: a pool store in a temp home, seeded accounts, OAuth following. */
import { storeSignIn, type SignInResult } from "../../src/auth/sign-in.js";
import { poolPaths } from "../../src/platform/paths.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { PoolStore } from "../../src/pool/store.js";
import type { Simulator } from "../../src/simulator/index.js";

export { freePort } from "../../src/bench/pg-cluster.js";

export function makeStore(poolHome: string): PoolStore {
  return new FilePoolStore({ paths: poolPaths(poolHome), lockWaitMs: 15_000, lockStaleMs: 30_000 });
}

/** Puts an account with freshly minted simulator tokens into the pool. */
export async function seedAccount(
  store: PoolStore,
  sim: Simulator,
  accountId: string,
  ttlSeconds = 3600,
): Promise<
  SignInResult & { minted: { idToken: string; accessToken: string; refreshToken: string } }
> {
  const minted = sim.mintTokens(accountId, { ttlSeconds });
  const result = await storeSignIn(
    store,
    {
      accessToken: minted.accessToken,
      refreshToken: minted.refreshToken,
      idToken: minted.idToken,
      expiresIn: ttlSeconds,
    },
    new Date(),
  );
  return { ...result, minted };
}

/** Plays the browser's part at the authorize endpoint: returns where it redirects. */
export async function authorizeRedirect(url: string, loginHint?: string): Promise<string> {
  const target = new URL(url);
  if (loginHint !== undefined) target.searchParams.set("login_hint", loginHint);
  const response = await fetch(target, { redirect: "manual" });
  const location = response.headers.get("location");
  if (response.status !== 302 || location === null) {
    throw new Error(`authorize answered ${response.status} without a redirect`);
  }
  return location;
}

/** A browser: follows the authorize URL, then GETs the loopback callback it was redirected to. */
export function fetchingBrowser(loginHint?: string): {
  open: (url: string) => Promise<void>;
  callbackStatus: Promise<number>;
} {
  let done!: (status: number) => void;
  const callbackStatus = new Promise<number>((resolve) => (done = resolve));
  return {
    callbackStatus,
    async open(url) {
      const location = await authorizeRedirect(url, loginHint);
      const response = await fetch(location);
      await response.text();
      done(response.status);
    },
  };
}
