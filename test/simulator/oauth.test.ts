import { describe, expect, it } from "vitest";
import { identityFromTokens } from "../../src/auth/jwt.js";
import { ALICE, BOB, CLIENT_ID, form, json, payloadOf, pkce, withSim } from "./helpers.js";

const REDIRECT = "http://localhost:1455/auth/callback";

async function authorize(
  authUrl: string,
  challenge: string,
  extra: Record<string, string> = {},
): Promise<URL> {
  const url = new URL("/oauth/authorize", authUrl);
  const params = {
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT,
    scope: "openid profile email offline_access",
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "st-123",
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url, { redirect: "manual" });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location") ?? "");
}

describe("simulator OAuth", () => {
  it("authorize redirects with code and state; the exchange checks PKCE and mints the account's tokens", async () => {
    await using sim = await withSim([ALICE, BOB]);
    const { verifier, challenge } = pkce();
    const back = await authorize(sim.authUrl, challenge);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get("state")).toBe("st-123");
    const code = back.searchParams.get("code")!;

    const wrong = await fetch(
      `${sim.authUrl}/oauth/token`,
      form({
        grant_type: "authorization_code",
        client_id: CLIENT_ID,
        code,
        code_verifier: "nope",
        redirect_uri: REDIRECT,
      }),
    );
    expect(wrong.status).toBe(400);

    const res = await fetch(
      `${sim.authUrl}/oauth/token`,
      form({
        grant_type: "authorization_code",
        client_id: CLIENT_ID,
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
      }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body["expires_in"]).toBe(3600);
    expect(body["token_type"]).toBe("Bearer");
    const id = identityFromTokens(String(body["id_token"]), String(body["access_token"]));
    expect(id).toEqual({
      accountId: "acct-A",
      email: "alice@example.com",
      plan: "plus",
      userId: "user-acct-A",
    });
    expect(String(body["refresh_token"])).toMatch(/^rt-acct-A-g\d+-[0-9a-f]+$/);
    const access = payloadOf(String(body["access_token"]));
    expect(access["https://api.openai.com/profile"]).toMatchObject({ email: "alice@example.com" });

    // A code works once.
    const again = await fetch(
      `${sim.authUrl}/oauth/token`,
      form({
        grant_type: "authorization_code",
        client_id: CLIENT_ID,
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
      }),
    );
    expect(again.status).toBe(400);

    // The next sign-in without a hint picks the next account; a hint picks that one.
    const second = pkce();
    const next = await authorize(sim.authUrl, second.challenge);
    const res2 = await fetch(
      `${sim.authUrl}/oauth/token`,
      form({
        grant_type: "authorization_code",
        client_id: CLIENT_ID,
        code: next.searchParams.get("code")!,
        code_verifier: second.verifier,
        redirect_uri: REDIRECT,
      }),
    );
    const body2 = (await res2.json()) as Record<string, string>;
    expect(identityFromTokens(body2["id_token"]!, body2["access_token"]!).accountId).toBe("acct-B");
    expect(identityFromTokens(body2["id_token"]!, body2["access_token"]!).plan).toBe("pro");
    const hinted = await authorize(sim.authUrl, second.challenge, {
      login_hint: "Alice@example.com",
    });
    expect(hinted.searchParams.get("code")).toBeTruthy();
    const kinds = sim.requests().map((r) => `${r.kind}:${r.status}:${r.accountId}`);
    expect(kinds).toContain("token-exchange:200:acct-A");
    expect(kinds).toContain("token-exchange:400:acct-A");
    expect(kinds.filter((k) => k.startsWith("authorize:302"))).toHaveLength(3);
  });

  it("refresh rotates; reusing a spent token answers 401 refresh_token_reused; unknown → 400 invalid_grant", async () => {
    await using sim = await withSim([ALICE]);
    const first = sim.mintTokens("acct-A");
    const res = await fetch(
      `${sim.authUrl}/oauth/token`,
      json({
        client_id: CLIENT_ID,
        grant_type: "refresh_token",
        refresh_token: first.refreshToken,
      }),
    );
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as Record<string, string>;
    expect(rotated["refresh_token"]).not.toBe(first.refreshToken);
    expect(rotated["access_token"]).not.toBe(first.accessToken);
    expect(sim.refreshCount("acct-A")).toBe(1);

    const reused = await fetch(
      `${sim.authUrl}/oauth/token`,
      json({
        client_id: CLIENT_ID,
        grant_type: "refresh_token",
        refresh_token: first.refreshToken,
      }),
    );
    expect(reused.status).toBe(401);
    expect(await reused.json()).toMatchObject({ error: { code: "refresh_token_reused" } });

    // Form-encoded works too, with the rotated token.
    const viaForm = await fetch(
      `${sim.authUrl}/oauth/token`,
      form({
        client_id: CLIENT_ID,
        grant_type: "refresh_token",
        refresh_token: rotated["refresh_token"]!,
      }),
    );
    expect(viaForm.status).toBe(200);
    expect(sim.refreshCount()).toBe(2);

    const unknown = await fetch(
      `${sim.authUrl}/oauth/token`,
      json({ grant_type: "refresh_token", refresh_token: "rt-nope" }),
    );
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: "invalid_grant" });

    const log = sim.requests().filter((r) => r.kind === "refresh");
    expect(log.map((r) => [r.status, r.error ?? null])).toEqual([
      [200, null],
      [401, "refresh_token_reused"],
      [200, null],
      [400, "invalid_grant"],
    ]);
    // The log never holds a token.
    const dump = JSON.stringify(sim.requests());
    expect(dump).not.toContain(first.refreshToken);
    expect(dump).not.toContain(rotated["access_token"]);
  });

  it("revoke spends a refresh token", async () => {
    await using sim = await withSim([ALICE]);
    const t = sim.mintTokens("acct-A");
    const res = await fetch(`${sim.authUrl}/oauth/revoke`, json({ token: t.refreshToken }));
    expect(res.status).toBe(200);
    const after = await fetch(
      `${sim.authUrl}/oauth/token`,
      json({ grant_type: "refresh_token", refresh_token: t.refreshToken }),
    );
    expect(after.status).toBe(401);
  });

  it("device flow: usercode, one pending poll (403), then a code + verifier that exchange", async () => {
    await using sim = await withSim([ALICE, BOB]);
    const uc = await fetch(
      `${sim.authUrl}/api/accounts/deviceauth/usercode`,
      json({ client_id: CLIENT_ID }),
    );
    expect(uc.status).toBe(200);
    const { device_auth_id, user_code, interval } = (await uc.json()) as Record<string, string>;
    expect(device_auth_id).toBeTruthy();
    expect(Number(interval)).toBeGreaterThan(0);
    const poll = () =>
      fetch(`${sim.authUrl}/api/accounts/deviceauth/token`, json({ device_auth_id, user_code }));
    expect((await poll()).status).toBe(403);
    const ok = await poll();
    expect(ok.status).toBe(200);
    const { authorization_code, code_verifier } = (await ok.json()) as Record<string, string>;
    const ex = await fetch(
      `${sim.authUrl}/oauth/token`,
      form({
        grant_type: "authorization_code",
        client_id: CLIENT_ID,
        code: authorization_code!,
        code_verifier: code_verifier!,
        redirect_uri: `${sim.authUrl}/deviceauth/callback`,
      }),
    );
    expect(ex.status).toBe(200);
    const tokens = (await ex.json()) as Record<string, string>;
    expect(identityFromTokens(tokens["id_token"]!, tokens["access_token"]!).accountId).toBe(
      "acct-A",
    );
    const bogus = await fetch(
      `${sim.authUrl}/api/accounts/deviceauth/token`,
      json({ device_auth_id: "x", user_code: "y" }),
    );
    expect(bogus.status).toBe(404);
    expect((await fetch(`${sim.authUrl}/codex/device`)).status).toBe(200);
  });

  it("authJsonFor gives a Codex auth.json for the account", async () => {
    await using sim = await withSim([ALICE]);
    const auth = sim.authJsonFor("acct-A") as {
      auth_mode: string;
      tokens: Record<string, string>;
      last_refresh: string;
    };
    expect(auth.auth_mode).toBe("chatgpt");
    expect(auth.tokens["account_id"]).toBe("acct-A");
    expect(identityFromTokens(auth.tokens["id_token"]!, auth.tokens["access_token"]!).email).toBe(
      "alice@example.com",
    );
    expect(Number.isNaN(Date.parse(auth.last_refresh))).toBe(false);
    expect(() => sim.mintTokens("acct-Z")).toThrow(/unknown account/);
  });
});
