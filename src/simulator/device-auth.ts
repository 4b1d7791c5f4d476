/**
 * Device-code sign-in (docs/chatgpt-backend.md §2.2): a user code, one "pending" poll (403), then an
 * authorization code plus the server-made PKCE verifier, exchanged at /oauth/token like any code.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SimContext } from "./context.js";
import { parseJson, readBody, sendJson } from "./http-util.js";
import { pathOf } from "./log.js";
import { s256 } from "./mint.js";

interface DeviceAuth {
  userCode: string;
  accountId: string;
  polls: number;
}

type RegisterCode = (code: string, accountId: string, challenge: string) => void;

export class DeviceAuthRoutes {
  private readonly devices = new Map<string, DeviceAuth>();
  private readonly ctx: SimContext;
  private readonly registerCode: RegisterCode;

  constructor(ctx: SimContext, registerCode: RegisterCode) {
    this.ctx = ctx;
    this.registerCode = registerCode;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = pathOf(req.url);
    const method = req.method ?? "GET";
    if (method === "POST" && path === "/api/accounts/deviceauth/usercode")
      await this.userCode(req, res);
    else if (method === "POST" && path === "/api/accounts/deviceauth/token")
      await this.deviceToken(req, res);
    else if (method === "GET" && path === "/codex/device") this.devicePage(res);
    else return false;
    return true;
  }

  private async userCode(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseJson(await readBody(req));
    const hint =
      body !== null &&
      typeof body === "object" &&
      "login_hint" in body &&
      typeof body.login_hint === "string"
        ? body.login_hint
        : null;
    const account = hint !== null ? this.ctx.state.find(hint) : this.ctx.state.nextToSignIn();
    if (account === undefined) {
      this.ctx.log.add({
        method: "POST",
        path: "/api/accounts/deviceauth/usercode",
        accountId: null,
        kind: "device-usercode",
        status: 400,
        error: "unknown_account",
      });
      return sendJson(res, 400, { error: "unknown_account" });
    }
    const id = `deviceauth_${randomBytes(12).toString("hex")}`;
    const userCode =
      `${randomBytes(2).toString("hex")}-${randomBytes(3).toString("hex")}`.toUpperCase();
    this.devices.set(id, { userCode, accountId: account.spec.accountId, polls: 0 });
    this.ctx.log.add({
      method: "POST",
      path: "/api/accounts/deviceauth/usercode",
      accountId: account.spec.accountId,
      kind: "device-usercode",
      status: 200,
    });
    sendJson(res, 200, {
      device_auth_id: id,
      user_code: userCode,
      // The real service sends the interval as a string; 1 s keeps tests quick.
      interval: "1",
      expires_at: new Date(Date.now() + 15 * 60_000).toISOString(),
    });
  }

  private async deviceToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseJson(await readBody(req));
    const field = (name: string): string =>
      body !== null && typeof body === "object" && name in body
        ? String((body as Record<string, unknown>)[name])
        : "";
    const device = this.devices.get(field("device_auth_id"));
    const path = "/api/accounts/deviceauth/token";
    if (device === undefined || device.userCode !== field("user_code")) {
      this.ctx.log.add({
        method: "POST",
        path,
        accountId: null,
        kind: "device-token",
        status: 404,
      });
      return sendJson(res, 404, { error: "not_found" });
    }
    device.polls += 1;
    // Approval "happens" after the first poll, so a client sees one pending answer.
    if (device.polls === 1) {
      this.ctx.log.add({
        method: "POST",
        path,
        accountId: device.accountId,
        kind: "device-token",
        status: 403,
      });
      return sendJson(res, 403, { error: "authorization_pending" });
    }
    this.devices.delete(field("device_auth_id"));
    const verifier = randomBytes(64).toString("base64url");
    const code = `ac_${randomBytes(16).toString("hex")}`;
    this.registerCode(code, device.accountId, s256(verifier));
    this.ctx.log.add({
      method: "POST",
      path,
      accountId: device.accountId,
      kind: "device-token",
      status: 200,
    });
    sendJson(res, 200, {
      authorization_code: code,
      code_challenge: s256(verifier),
      code_verifier: verifier,
    });
  }

  private devicePage(res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(
      "<!doctype html><title>Simulator device sign-in</title><p>Codes are approved automatically.</p>",
    );
  }
}
