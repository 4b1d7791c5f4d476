/**
 * `codex-pool simulator` (hidden): the loopback ChatGPT simulator as a process of its own. Prints
 * its URLs and CA path as JSON on stdout, then serves until SIGINT/SIGTERM.
 */
import fs from "node:fs/promises";
import { UsageError, errorMessage } from "../../platform/errors.js";
import { expandHome } from "../../platform/paths.js";
import { startSimulator } from "../../simulator/index.js";
import { demoAccounts, parseScenario } from "../../simulator/script.js";
import type { SimAccountSpec } from "../../simulator/types.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";

async function loadScript(ctx: CommandContext, file: string): Promise<SimAccountSpec[]> {
  const full = expandHome(file, ctx.env);
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(full, "utf8"));
  } catch (error) {
    throw new UsageError(
      `cannot read the scenario ${full} (${errorMessage(error)}); pass a JSON file`,
    );
  }
  const parsed = parseScenario(json);
  if (!parsed.ok) throw new UsageError(`${full} is not a simulator scenario (${parsed.reason})`);
  return parsed.accounts;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export async function simulator(
  ctx: CommandContext,
  opts: CommandInput<"simulator">,
): Promise<number> {
  const accounts = opts.script !== undefined ? await loadScript(ctx, opts.script) : demoAccounts();
  const sim = await startSimulator({ accounts });
  const stopped = untilSignal();
  ctx.out.json({
    authUrl: sim.authUrl,
    backendUrl: sim.backendUrl,
    httpBackendUrl: sim.httpBackendUrl,
    caFile: sim.caFile,
    proxyUrl: sim.proxyUrl,
    accounts: accounts.map((a) => a.accountId),
  });
  await stopped;
  await sim.close();
  return 0;
}
