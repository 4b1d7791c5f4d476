/**
 * Incremental reading of a rollout file: each read() returns the events of the complete lines
 * appended since the last call. A partial last line waits for its newline; a line longer than
 * the cap is skipped whole (up to its newline) without buffering it; garbage and unknown event
 * types are skipped. Codex writes the file line by line, so nothing complete is ever missed.
 */
import fs from "node:fs/promises";
import { hasErrorCode } from "../platform/errors.js";
import { parseRolloutLine, type RolloutEvent } from "./rollout-events.js";

export interface RolloutTailOptions {
  /** Longest line kept (bytes). session_meta carries ~30 KB of instructions; default 4 MiB. */
  maxLineBytes?: number;
  /** Bytes read per system call. */
  chunkBytes?: number;
  /**
   * Where to start reading: the file's size taken before an earlier point in time (e.g. before a
   * resumed codex was spawned), so everything appended after it is read and nothing before.
   */
  from?: number;
}

export class RolloutTail {
  readonly file: string;
  private position = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;
  private readonly maxLineBytes: number;
  private readonly chunkBytes: number;
  /** Lines dropped because they were too long or did not parse as anything we know. */
  skippedLines = 0;

  constructor(file: string, options: RolloutTailOptions = {}) {
    this.file = file;
    this.maxLineBytes = options.maxLineBytes ?? 4 * 1024 * 1024;
    this.chunkBytes = options.chunkBytes ?? 64 * 1024;
    this.position = options.from ?? 0;
  }

  /** Bytes consumed so far (complete lines and a pending partial one). */
  get offset(): number {
    return this.position;
  }

  async read(): Promise<RolloutEvent[]> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file, "r");
    } catch (error) {
      if (hasErrorCode(error, "ENOENT")) return [];
      throw error;
    }
    const events: RolloutEvent[] = [];
    try {
      const size = (await handle.stat()).size;
      if (size < this.position) this.reset(); // truncated or replaced: start over
      const buf = Buffer.alloc(this.chunkBytes);
      while (this.position < size) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, this.position);
        if (bytesRead === 0) break;
        this.position += bytesRead;
        this.consume(buf.subarray(0, bytesRead), events);
      }
    } finally {
      await handle.close();
    }
    return events;
  }

  private reset(): void {
    this.position = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = false;
  }

  private consume(chunk: Buffer, events: RolloutEvent[]): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const piece = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      if (!this.skipping) {
        if (this.pendingBytes + piece.length > this.maxLineBytes) {
          this.skipping = true;
          this.pending = [];
          this.pendingBytes = 0;
        } else if (piece.length > 0) {
          this.pending.push(Buffer.from(piece));
          this.pendingBytes += piece.length;
        }
      }
      if (nl === -1) return;
      if (this.skipping) {
        this.skippedLines++;
        this.skipping = false;
      } else {
        const line = Buffer.concat(this.pending).toString("utf8").trim();
        if (line !== "") {
          const event = parseRolloutLine(line);
          if (event) events.push(event);
          else this.skippedLines++;
        }
      }
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
    }
  }
}
