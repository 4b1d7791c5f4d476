/**
 * The refresh journal (docs/team-pool.md "Refresh protocol", step 6): before a holder commits the
 * tokens the service just rotated, it writes them, encrypted and fsynced, to a file in its own
 * pool home. If it dies before the commit lands, the next codex-pool on this machine that opens the
 * shared pool commits them (compare-and-set on the generation they were exchanged from) — the one
 * way out of `in doubt` that keeps the login. An entry whose generation moved on is obsolete
 * (someone signed in again) and is dropped.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ensurePrivateDir, writeFileAtomic } from "../../platform/atomic-file.js";
import { hasErrorCode } from "../../platform/errors.js";
import type { PoolPaths } from "../../platform/paths.js";
import { TokensSchema, type Tokens } from "../schema.js";
import type { TokenCipher } from "./crypto.js";
import { commitRotated } from "./commit-tokens.js";
import type { PgPoolStore, Ready } from "./pg-store.js";

const EntrySchema = z.object({
  account: z.string(),
  fromGeneration: z.number().int().nonnegative(),
  sealed: z.string(),
  at: z.string(),
});

export function journalDir(paths: PoolPaths): string {
  return path.join(paths.poolHome, "journal");
}

function entryFile(paths: PoolPaths, account: string, fromGeneration: number): string {
  return path.join(journalDir(paths), `${account}.${fromGeneration}.json`);
}

export async function writeJournal(
  paths: PoolPaths,
  cipher: TokenCipher,
  account: string,
  fromGeneration: number,
  tokens: Tokens,
  now: Date,
): Promise<string> {
  await ensurePrivateDir(journalDir(paths));
  const sealed = cipher.seal(JSON.stringify(tokens), {
    account,
    column: "journal",
    generation: fromGeneration + 1,
  });
  const file = entryFile(paths, account, fromGeneration);
  const entry = {
    account,
    fromGeneration,
    sealed: sealed.toString("base64"),
    at: now.toISOString(),
  };
  await writeFileAtomic(file, JSON.stringify(entry) + "\n");
  return file;
}

export async function removeJournal(file: string): Promise<void> {
  await fs.rm(file, { force: true });
}

/** Commits (or drops as obsolete) every entry left by a holder of this machine that died. */
/** The JSON in `text`, or null when it is not JSON (a damaged entry). */
function jsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export async function replayJournal(store: PgPoolStore, ready: Ready): Promise<number> {
  let names: string[];
  try {
    names = (await fs.readdir(journalDir(store.paths))).filter((n) => n.endsWith(".json"));
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) return 0;
    throw error;
  }
  let applied = 0;
  for (const name of names) {
    const file = path.join(journalDir(store.paths), name);
    const parsed = EntrySchema.safeParse(jsonOrNull(await fs.readFile(file, "utf8")));
    // An entry we cannot read is kept for a human (doctor shows it), never guessed at.
    if (!parsed.success) continue;
    const { account, fromGeneration } = parsed.data;
    const plain = ready.cipher.open(Buffer.from(parsed.data.sealed, "base64"), {
      account,
      column: "journal",
      generation: fromGeneration + 1,
    });
    if (plain === null) continue;
    const tokens = TokensSchema.parse(JSON.parse(plain));
    const done = await store.withPoolLock(async (tx, { cipher }) => {
      const ok = await commitRotated(tx, cipher, account, fromGeneration, tokens);
      if (ok) {
        await store.finish(tx, [
          { account, action: "journal-replay", detail: { generation: fromGeneration + 1 } },
        ]);
      }
      return ok;
    }, ready);
    if (done) applied += 1;
    await removeJournal(file);
  }
  return applied;
}

/** Entries still waiting (for doctor). */
export async function pendingJournal(paths: PoolPaths): Promise<string[]> {
  try {
    return (await fs.readdir(journalDir(paths))).filter((n) => n.endsWith(".json"));
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) return [];
    throw error;
  }
}
