/** Shared bits for the simulator tests. */
import { createHash, randomBytes } from "node:crypto";
import { startSimulator, type SimAccountSpec, type Simulator } from "../../src/simulator/index.js";

export const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";

export async function withSim(accounts: SimAccountSpec[]): Promise<Simulator & AsyncDisposable> {
  const sim = await startSimulator({ accounts });
  return Object.assign(sim, { [Symbol.asyncDispose]: () => sim.close() });
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(64).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export function payloadOf(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
}

export function form(fields: Record<string, string>): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  };
}

export function json(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

export const ALICE: SimAccountSpec = { accountId: "acct-A", email: "alice@example.com" };
export const BOB: SimAccountSpec = { accountId: "acct-B", email: "bob@example.com", plan: "pro" };

/** The value at a dotted path ("a.b.0.c") inside parsed JSON, or undefined. */
export function at(value: unknown, dotted: string): unknown {
  let cur: unknown = value;
  for (const key of dotted.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
