/**
 * The loopback simulator of OpenAI's auth service and the ChatGPT backend. It serves the real codex
 * binary (HTTPS + the Responses WebSocket) and our own clients (plain HTTP), all on 127.0.0.1.
 */
import { setMaxListeners } from "node:events";
import fs from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { ensurePrivateDir, writeFileAtomic } from "../platform/atomic-file.js";
import { systemTempDir } from "../platform/paths.js";
import type { SimContext } from "./context.js";
import { createGuard } from "./guard.js";
import { RequestLog } from "./log.js";
import { OAuthRoutes } from "./oauth.js";
import { attachResponsesWs } from "./responses-ws.js";
import { createHandler } from "./server.js";
import { SimState } from "./state.js";
import { makeTlsMaterial } from "./tls.js";
import type { Simulator, SimulatorOptions } from "./types.js";

export type * from "./types.js";
export {
  codexEnv,
  prepareCodexHome,
  simulatorConfig,
  type CodexHomeOptions,
} from "./codex-home.js";
export { demoAccounts, parseScenario } from "./script.js";

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function shut(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await fs.mkdtemp(path.join(systemTempDir(), "codex-pool-sim-")));
  await ensurePrivateDir(dir);
  await fs.chmod(dir, 0o700);
  const tls = await makeTlsMaterial();
  const caFile = path.join(dir, "ca.pem");
  await writeFileAtomic(caFile, tls.caPem, { mode: 0o600 });

  const closing = new AbortController();
  // Every delayed or hanging answer listens for the close: many at once is normal here.
  setMaxListeners(0, closing.signal);
  const state = new SimState();
  const log = new RequestLog();
  for (const spec of options.accounts) state.setAccount(spec);
  const ctx: SimContext = { state, log, closing: closing.signal, authUrl: "" };
  const handler = createHandler(ctx, new OAuthRoutes(ctx));

  const plain = http.createServer(handler);
  const secure = https.createServer({ cert: tls.certPem, key: tls.keyPem }, handler);
  const dropWs = [attachResponsesWs(ctx, plain), attachResponsesWs(ctx, secure)];
  const guard = createGuard();
  const [port, tlsPort, guardPort] = await Promise.all([
    listen(plain),
    listen(secure),
    listen(guard.server),
  ]);

  const authUrl = `http://127.0.0.1:${port}`;
  ctx.authUrl = authUrl;
  state.issuer = authUrl;
  let closed: Promise<void> | null = null;

  return {
    authUrl,
    backendUrl: `https://127.0.0.1:${tlsPort}/backend-api`,
    httpBackendUrl: `${authUrl}/backend-api`,
    caFile,
    proxyUrl: `http://127.0.0.1:${guardPort}`,
    strayRequests: () => [...guard.strays],
    setAccount: (spec) => state.setAccount(spec),
    patchAccount: (accountId, patch) => state.patchAccount(accountId, patch),
    mintTokens: (accountId, opts) => state.mint(accountId, opts?.ttlSeconds),
    expireAccessToken: (token) => state.expireAccessToken(token),
    authJsonFor(accountId) {
      const t = state.mint(accountId);
      return {
        auth_mode: "chatgpt",
        OPENAI_API_KEY: null,
        tokens: {
          id_token: t.idToken,
          access_token: t.accessToken,
          refresh_token: t.refreshToken,
          account_id: accountId,
        },
        last_refresh: new Date().toISOString(),
      };
    },
    requests: () => log.all(),
    waitForRequest: (predicate, timeoutMs = 10_000) => log.waitFor(predicate, timeoutMs),
    refreshCount(accountId) {
      let total = 0;
      for (const account of state.accounts.values()) {
        if (accountId === undefined || account.spec.accountId === accountId)
          total += account.refreshes;
      }
      return total;
    },
    close() {
      closed ??= (async () => {
        closing.abort();
        for (const drop of dropWs) drop();
        await Promise.all([shut(plain), shut(secure), shut(guard.server)]);
        if (ownDir) await fs.rm(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}
