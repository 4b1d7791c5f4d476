/**
 * Just enough DER (ITU-T X.690) to write the simulator's two certificates (tls.ts): definite
 * lengths, and the handful of universal and context tags an X.509 certificate uses. It only
 * writes, and only what tls.ts gives it; node's X509Certificate and codex's rustls read the result
 * back in the tests.
 */
export type Der = Buffer;

/** Tag + length + content; lengths of 128 bytes or more take the long form. */
export function tlv(tag: number, content: Buffer): Der {
  const n = content.length;
  if (n < 0x80) return Buffer.concat([Buffer.from([tag, n]), content]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | bytes.length, ...bytes]), content]);
}

export const sequence = (...items: Der[]): Der => tlv(0x30, Buffer.concat(items));
export const set = (...items: Der[]): Der => tlv(0x31, Buffer.concat(items));
export const octets = (bytes: Buffer): Der => tlv(0x04, bytes);
export const utf8 = (text: string): Der => tlv(0x0c, Buffer.from(text, "utf8"));
export const bool = (value: boolean): Der => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));

/** A non-negative INTEGER from big-endian bytes: minimal, with a 0 byte when the top bit is set. */
export function unsigned(bytes: Buffer): Der {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  const body = bytes.subarray(start);
  const pad = (body[0] ?? 0) & 0x80 ? Buffer.from([0]) : Buffer.alloc(0);
  return tlv(0x02, Buffer.concat([pad, body.length === 0 ? Buffer.from([0]) : body]));
}

/** A small non-negative INTEGER. */
export function integer(value: number): Der {
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return unsigned(Buffer.from(bytes));
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Der {
  const arcs = dotted.split(".").map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const groups: number[] = [];
    for (let v = arc; ; v = Math.floor(v / 128)) {
      groups.unshift((v % 128) | (groups.length > 0 ? 0x80 : 0));
      if (v < 128) break;
    }
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A BIT STRING of whole bytes, or with `unused` trailing bits of the last byte not counted. */
export function bits(bytes: Buffer, unused = 0): Der {
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

/** X.509 Time: UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
export function time(date: Date): Der {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14); // YYYYMMDDHHMMSS
  const year = date.getUTCFullYear();
  return year < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, "ascii"))
    : tlv(0x18, Buffer.from(`${iso}Z`, "ascii"));
}

/** [n] EXPLICIT: a constructed context tag around one value. */
export const explicit = (n: number, inner: Der): Der => tlv(0xa0 | n, inner);

/** [n] IMPLICIT on a primitive value: the context tag replaces the value's own. */
export const implicit = (n: number, content: Buffer): Der => tlv(0x80 | n, content);
