/**
 * Tokens at rest in the shared database (docs/team-pool.md "Secrets"): encrypted here, in the
 * application, with AES-256-GCM from node:crypto, under a key the database never sees. The
 * associated data binds each ciphertext to its account row, its column and its token generation,
 * so a ciphertext copied into another row, column or generation fails authentication instead of
 * decrypting to a token that was never meant to be there. The key check value (a known plaintext
 * under the key) lets `doctor` tell a wrong key from damaged data.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import fs from "node:fs";
import { CodexPoolError, hasErrorCode } from "../../platform/errors.js";
import type { Env } from "../../platform/paths.js";

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_ENV = "CODEX_POOL_DATABASE_KEY";

/** The data key is missing, malformed, or not the one the pool was encrypted with. */
export class DatabaseKeyError extends CodexPoolError {}

export type TokenColumn = "access_token" | "refresh_token" | "id_token";

export interface SealContext {
  /** Our `acc_` id of the row. */
  readonly account: string;
  readonly column: TokenColumn | "key_check" | "journal";
  readonly generation: number;
}

function aad(ctx: SealContext): Buffer {
  return Buffer.from(`codex-pool:v${FORMAT}:${ctx.account}:${ctx.column}:${ctx.generation}`);
}

export class TokenCipher {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new DatabaseKeyError("the database key must be 32 bytes");
    this.key = key;
  }

  seal(plain: string, ctx: SealContext): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(aad(ctx));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT]), iv, cipher.getAuthTag(), body]);
  }

  /** The plaintext, or null when authentication fails (wrong key, wrong row/column/generation). */
  open(sealed: Uint8Array, ctx: SealContext): string | null {
    const buf = Buffer.from(sealed);
    if (buf.length < 1 + IV_BYTES + TAG_BYTES || buf[0] !== FORMAT) return null;
    const iv = buf.subarray(1, 1 + IV_BYTES);
    const tag = buf.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const body = buf.subarray(1 + IV_BYTES + TAG_BYTES);
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, iv);
      decipher.setAAD(aad(ctx));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    } catch {
      return null;
    }
  }
}

const KEY_CHECK_PLAIN = "codex-pool key check";
const KEY_CHECK_CTX: SealContext = { account: "-", column: "key_check", generation: 0 };

export function makeKeyCheck(cipher: TokenCipher): Buffer {
  return cipher.seal(KEY_CHECK_PLAIN, KEY_CHECK_CTX);
}

export function keyCheckMatches(cipher: TokenCipher, check: Uint8Array): boolean {
  return cipher.open(check, KEY_CHECK_CTX) === KEY_CHECK_PLAIN;
}

function decodeKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, "base64") : null;
  if (key === null || key.length !== 32) {
    throw new DatabaseKeyError(
      `${where} is not a database key (32 random bytes, base64); make one with \`openssl rand -base64 32\` — every member of the team must use the same key`,
    );
  }
  return key;
}

/**
 * The key from $CODEX_POOL_DATABASE_KEY, else from the file the setting `database_key_file` names
 * (which must be private: mode 0600 or stricter). Never a printed setting: the variable is secret.
 */
export function loadDatabaseKey(env: Env, keyFile: string): Buffer {
  const fromEnv = env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return decodeKey(fromEnv, KEY_ENV);
  if (keyFile === "") {
    throw new DatabaseKeyError(
      `no database key: the shared pool's tokens are encrypted with the team's key; set ${KEY_ENV} or the setting database_key_file (a 0600 file holding the key)`,
    );
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(keyFile);
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) {
      throw new DatabaseKeyError(
        `the database key file ${keyFile} (database_key_file) does not exist; put the team's key there with mode 0600`,
      );
    }
    throw new DatabaseKeyError(`cannot read the database key file ${keyFile}; check its owner`);
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new DatabaseKeyError(
      `the database key file ${keyFile} is readable by others (${(stat.mode & 0o777).toString(8)}); chmod 600 ${keyFile}`,
    );
  }
  return decodeKey(fs.readFileSync(keyFile, "utf8"), `the database key file ${keyFile}`);
}
