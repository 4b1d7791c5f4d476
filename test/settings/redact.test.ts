import { describe, expect, it } from "vitest";
import { redact, redactSecrets } from "../../src/platform/redact.js";

describe("redact", () => {
  it("masks JWTs, bearer credentials, refresh tokens and token fields", () => {
    const jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln";
    const line = `auth ${jwt} Authorization: Bearer abc.def-123 refresh rt-acct-A-g3-9f8e7d6c {"refresh_token":"whatever"}`;
    const out = redact(line);
    expect(out).not.toContain(jwt);
    expect(out).not.toContain("abc.def-123");
    expect(out).not.toContain("rt-acct-A-g3-9f8e7d6c");
    expect(out).not.toContain("whatever");
    expect(out).toContain("[redacted");
  });

  it("keeps ordinary text, emails and ids", () => {
    const text = "account 2 alice@example.com acc_1a2b3c acct-A resets 14:05";
    expect(redact(text)).toBe(text);
  });

  it("masks the password of a database URL, and only that", () => {
    const out = redact("cannot reach postgres://alice:s3cr%40t-pw@db.example.com:5432/codex now");
    expect(out).toBe("cannot reach postgres://alice:***@db.example.com:5432/codex now");
    expect(redact("postgresql://bob@db/codex")).toBe("postgresql://bob@db/codex");
  });

  it("masks known secret values whatever their shape", () => {
    expect(redactSecrets("x plainsecretvalue y", ["plainsecretvalue"])).toBe("x [redacted] y");
  });
});
