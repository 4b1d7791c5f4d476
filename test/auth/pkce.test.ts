import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parsePasted } from "../../src/auth/login-browser.js";
import { authorizeUrl, challengeFor, createPkce, createState } from "../../src/auth/pkce.js";
import { AuthError } from "../../src/platform/errors.js";

describe("PKCE and the authorize URL", () => {
  it("makes a 64-byte base64url verifier, its S256 challenge and a 16-byte hex state", () => {
    const { verifier, challenge } = createPkce();
    expect(Buffer.from(verifier, "base64url")).toHaveLength(64);
    expect(verifier).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(challenge).toBe(createHash("sha256").update(verifier).digest("base64url"));
    expect(challengeFor(verifier)).toBe(challenge);
    expect(createState()).toMatch(/^[0-9a-f]{32}$/);
    expect(createState()).not.toBe(createState());
  });

  it("carries exactly the Codex client's parameters under the configured issuer", () => {
    const url = new URL(
      authorizeUrl("http://127.0.0.1:9/prefix/", {
        challenge: "ch",
        state: "st",
        redirectUri: "http://localhost:1455/auth/callback",
      }),
    );
    expect(url.origin + url.pathname).toBe("http://127.0.0.1:9/prefix/oauth/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: "app_EMoamEEZ73f0CkXaXp7hrann",
      redirect_uri: "http://localhost:1455/auth/callback",
      scope: "openid profile email offline_access",
      code_challenge: "ch",
      code_challenge_method: "S256",
      id_token_add_organizations: "true",
      codex_cli_simplified_flow: "true",
      state: "st",
      originator: "codex_cli_rs",
      prompt: "login",
    });
  });
});

describe("parsePasted", () => {
  const state = "a".repeat(32);
  it("takes the code from a full redirect URL, a query string, or a bare code", () => {
    expect(parsePasted(`http://localhost:1455/auth/callback?code=c1&state=${state}`, state)).toBe(
      "c1",
    );
    expect(parsePasted(`  ?code=c2&state=${state}\n`, state)).toBe("c2");
    expect(parsePasted("ac_123", state)).toBe("ac_123");
  });
  it("refuses a wrong or missing state, a missing code and empty input", () => {
    expect(() => parsePasted("http://localhost:1455/auth/callback?code=c&state=b", state)).toThrow(
      /state mismatch/,
    );
    expect(() => parsePasted("http://localhost:1455/auth/callback?code=c", state)).toThrow(
      AuthError,
    );
    expect(() => parsePasted(`http://localhost:1455/auth/callback?state=${state}`, state)).toThrow(
      /no authorization code/,
    );
    expect(() => parsePasted("   ", state)).toThrow(/nothing was pasted/);
  });
});
