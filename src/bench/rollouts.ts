/**
 * Writes fake Codex rollout files (sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl) for tests and
 * the bench: `count` old sessions spread over past days, each with a session_meta line.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** A UUIDv7 for time `t`, as codex names its sessions (the first 48 bits are the time in ms). */
export function uuidV7(t: Date): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(t.getTime(), 0, 6);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function dayFolder(t: Date): string {
  return path.join(String(t.getFullYear()), pad(t.getMonth() + 1), pad(t.getDate()));
}

export function rolloutName(t: Date, id: string): string {
  const stamp = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}-${pad(t.getMinutes())}-${pad(t.getSeconds())}`;
  return `rollout-${stamp}-${id}.jsonl`;
}

export function sessionMetaLine(meta: {
  id: string;
  timestamp: Date;
  cwd: string;
  originator?: string;
  /** Repeats of the base-instructions filler (~15 bytes each); real metas are ~30 KB. */
  padding?: number;
}): string {
  return JSON.stringify({
    timestamp: meta.timestamp.toISOString(),
    type: "session_meta",
    payload: {
      id: meta.id,
      session_id: meta.id,
      timestamp: meta.timestamp.toISOString(),
      cwd: meta.cwd,
      originator: meta.originator ?? "codex_exec",
      cli_version: "0.169.0",
      source: "exec",
      base_instructions: { text: "You are Codex. ".repeat(meta.padding ?? 2000) },
    },
  });
}

/** Writes one rollout file and returns its path. `extra` lines follow the session_meta. */
export async function writeRollout(
  sessionsDir: string,
  meta: { id?: string; timestamp: Date; cwd: string; originator?: string; padding?: number },
  extra: string[] = [],
): Promise<{ file: string; id: string }> {
  const id = meta.id ?? uuidV7(meta.timestamp);
  const dir = path.join(sessionsDir, dayFolder(meta.timestamp));
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, rolloutName(meta.timestamp, id));
  await fs.writeFile(file, [sessionMetaLine({ ...meta, id }), ...extra].join("\n") + "\n");
  const seconds = meta.timestamp.getTime() / 1000;
  await fs.utimes(file, seconds, seconds);
  return { file, id };
}

/** `count` old sessions, one every `spacingMinutes`, ending `endDaysAgo` days before `now`. */
export async function generateOldRollouts(
  sessionsDir: string,
  options: {
    count: number;
    now: Date;
    cwd: string;
    endDaysAgo?: number;
    spacingMinutes?: number;
    padding?: number;
  },
): Promise<void> {
  const spacing = (options.spacingMinutes ?? 37) * 60_000;
  const end = options.now.getTime() - (options.endDaysAgo ?? 2) * 86_400_000;
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < options.count; i++) {
    batch.push(
      writeRollout(sessionsDir, {
        timestamp: new Date(end - i * spacing),
        cwd: options.cwd,
        ...(options.padding !== undefined ? { padding: options.padding } : {}),
      }),
    );
    if (batch.length >= 64) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
}
