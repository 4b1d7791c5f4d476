import http from "node:http";
import { describe, expect, it } from "vitest";
import { codexEnv, simulatorConfig } from "../../src/simulator/codex-home.js";
import { ALICE, at, withSim } from "./helpers.js";

function viaProxy(proxyUrl: string, options: http.RequestOptions): Promise<number> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: proxy.hostname, port: proxy.port, ...options });
    req.on("connect", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("stray-traffic guard", () => {
  it("refuses CONNECT and proxied requests and records their targets", async () => {
    await using sim = await withSim([ALICE]);
    expect(sim.strayRequests()).toEqual([]);
    expect(await viaProxy(sim.proxyUrl, { method: "CONNECT", path: "chatgpt.com:443" })).toBe(403);
    expect(
      await viaProxy(sim.proxyUrl, {
        method: "GET",
        path: "http://ab.chatgpt.com/otlp/v1/metrics",
      }),
    ).toBe(403);
    expect(sim.strayRequests()).toEqual([
      "CONNECT chatgpt.com:443",
      "GET http://ab.chatgpt.com/otlp/v1/metrics",
    ]);
  });

  it("codexEnv points codex at the simulator and strips what would override auth.json", async () => {
    await using sim = await withSim([ALICE]);
    const env = codexEnv(sim, {
      PATH: "/bin",
      CODEX_API_KEY: "sk-x",
      OPENAI_API_KEY: "sk-y",
      HOME: "/h",
    });
    expect(env).toMatchObject({
      PATH: "/bin",
      HOME: "/h",
      CODEX_CA_CERTIFICATE: sim.caFile,
      CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${sim.authUrl}/oauth/token`,
      CODEX_REVOKE_TOKEN_URL_OVERRIDE: `${sim.authUrl}/oauth/revoke`,
      HTTPS_PROXY: sim.proxyUrl,
      HTTP_PROXY: sim.proxyUrl,
      ALL_PROXY: sim.proxyUrl,
      NO_PROXY: "127.0.0.1,localhost",
    });
    expect(env["CODEX_API_KEY"]).toBeUndefined();
    expect(env["OPENAI_API_KEY"]).toBeUndefined();
    const config = simulatorConfig(sim, { cwd: "/work/p" });
    expect(at(config, "chatgpt_base_url")).toBe(`${sim.backendUrl}/`);
    expect(at(config, "openai_base_url")).toBe(`${sim.backendUrl}/codex`);
    expect((config["projects"] as Record<string, unknown>)["/work/p"]).toEqual({
      trust_level: "trusted",
    });
    expect(at(config, "features")).toEqual({ plugins: false, apps: false, remote_plugin: false });
  });
});
