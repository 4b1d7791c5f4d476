/**
 * The one way rotated tokens reach an account row outside a whole-pool transaction: a
 * compare-and-set on the integer token generation (docs/team-pool.md "Refresh protocol", step 6),
 * in the caller's transaction, which holds the pool lock. It also clears an `in doubt` mark: the
 * generation never moved, so these tokens are the ones the spent token was exchanged for.
 */
import type { Tokens } from "../schema.js";
import type { TokenCipher } from "./crypto.js";
import { sql, type Tx } from "./client.js";
import { sealTokens } from "./rows.js";

/** True when the row still had `fromGeneration` and now holds `tokens` at the next one. */
export async function commitRotated(
  tx: Tx,
  cipher: TokenCipher,
  account: string,
  fromGeneration: number,
  tokens: Tokens,
): Promise<boolean> {
  const gen = fromGeneration + 1;
  const sealed = sealTokens(cipher, account, gen, tokens);
  const rows = await tx.count(sql`
    update codex_pool.accounts set token_generation = ${gen},
      access_token = ${sealed.access_token}, refresh_token = ${sealed.refresh_token},
      id_token = ${sealed.id_token}, access_expires_at = ${sealed.access_expires_at},
      last_refresh_at = ${sealed.last_refresh_at}, updated_at = clock_timestamp(),
      doc = case when doc -> 'state' ->> 'kind' = 'in-doubt'
                 then jsonb_set(doc, '{state}', '{"kind":"ok"}'::jsonb) else doc end
    where id = ${account} and token_generation = ${fromGeneration}`);
  return rows === 1;
}
