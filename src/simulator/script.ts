/**
 * Scenario files for `codex-pool simulator --script <file>`: either an array of accounts or
 * `{ "accounts": [...] }`, each in the shape of SimAccountSpec.
 */
import { z } from "zod";
import type { SimAccountSpec } from "./types.js";

const WindowSchema = z
  .object({
    seconds: z.number().nonnegative(),
    usedPercent: z.number(),
    resetAfterSeconds: z.number().nonnegative().optional(),
  })
  .strict();

const AllowanceFields = {
  limit: z.union([z.number(), z.string()]).optional(),
  used: z.union([z.number(), z.string()]).optional(),
  remaining: z.union([z.number(), z.string()]).optional(),
  usedPercent: z.number().optional(),
  remainingPercent: z.number().optional(),
  resetAfterSeconds: z.number().nonnegative().optional(),
};

const UsageSchema = z
  .object({
    windows: z.array(WindowSchema).max(2).optional(),
    spendControl: z
      .object({ ...AllowanceFields, reached: z.boolean() })
      .strict()
      .optional(),
    individualLimit: z.object(AllowanceFields).strict().optional(),
    modelLimits: z
      .array(
        z
          .object({
            limitName: z.string(),
            meteredFeature: z.string().optional(),
            windows: z.array(WindowSchema).max(2).optional(),
          })
          .strict(),
      )
      .optional(),
    codeReview: z.array(WindowSchema).max(2).optional(),
    allowed: z.boolean().optional(),
    limitReached: z.boolean().optional(),
    primaryUsedPercent: z.number().optional(),
    primaryResetAt: z.number().optional(),
    secondaryUsedPercent: z.number().optional(),
    secondaryResetAt: z.number().optional(),
    status: z.number().int().optional(),
    body: z.unknown().optional(),
    latencyMs: z.number().nonnegative().optional(),
    hang: z.boolean().optional(),
  })
  .strict();

const TurnsSchema = z
  .object({
    limitAfter: z.number().int().nonnegative().nullable().optional(),
    usedPercentByTurn: z.array(z.number()).optional(),
    resetsAt: z.number().optional(),
    latencyMs: z.number().nonnegative().optional(),
    hang: z.boolean().optional(),
    failStatus: z.number().int().optional(),
    websocket: z.boolean().optional(),
    turnError: z
      .object({
        status: z.number().int(),
        body: z.record(z.unknown()),
        headers: z.record(z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const SimAccountSpecSchema = z
  .object({
    accountId: z.string().min(1),
    email: z.string().min(3),
    plan: z.string().optional(),
    accessTokenTtlSeconds: z.number().optional(),
    usage: UsageSchema.optional(),
    turns: TurnsSchema.optional(),
  })
  .strict();

const ScenarioSchema = z.object({ accounts: z.array(SimAccountSpecSchema).min(1) });

/** The accounts of a scenario, or a one-line reason it is not one. */
export function parseScenario(
  json: unknown,
): { ok: true; accounts: SimAccountSpec[] } | { ok: false; reason: string } {
  // A bare array is accepted as the accounts list; parsing one shape gives precise error paths.
  const parsed = ScenarioSchema.safeParse(Array.isArray(json) ? { accounts: json } : json);
  if (parsed.success) return { ok: true, accounts: parsed.data.accounts };
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.join(".") : "top level";
  return { ok: false, reason: `${where}: ${issue?.message ?? "not a scenario"}` };
}

/** Three demo accounts: A runs out after two turns, B and C have room. */
export function demoAccounts(): SimAccountSpec[] {
  return [
    {
      accountId: "acct-A",
      email: "alice@example.com",
      plan: "plus",
      turns: { limitAfter: 2, usedPercentByTurn: [60, 95] },
    },
    {
      accountId: "acct-B",
      email: "bob@example.com",
      plan: "plus",
      usage: { primaryUsedPercent: 20 },
    },
    {
      accountId: "acct-C",
      email: "carol@example.com",
      plan: "pro",
      usage: { primaryUsedPercent: 5 },
    },
  ];
}
