/**
 * A throwaway CA and a leaf certificate for 127.0.0.1/localhost, made in-process (no openssl
 * command: many machines lack it; docs/codex-cli.md §2). ECDSA P-256 keeps generation fast, and
 * rustls (codex) accepts it.
 *
 * The keys and signatures come from node:crypto; the certificates are written by our own DER
 * encoder (der.ts) rather than a certificate library: the two certificates have a fixed shape, so
 * ~100 lines of encoding replace a dependency tree that patched a global (`reflect-metadata`) in
 * every run of the product just so the demo could serve HTTPS (docs/style.md, section B).
 */
import { createHash, generateKeyPair, randomBytes, sign, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import {
  bits,
  bool,
  explicit,
  implicit,
  integer,
  octets,
  oid,
  sequence,
  set,
  time,
  unsigned,
  utf8,
  type Der,
} from "./der.js";

export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const DAY_MS = 86_400_000;

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

const generateEcKeys = promisify(generateKeyPair);

interface Keys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Buffer;
  /** RFC 5280 §4.2.1.2 method 1: SHA-1 of the public key's bits. */
  readonly keyId: Buffer;
}

async function newKeys(): Promise<Keys> {
  const { privateKey, publicKey } = await generateEcKeys("ec", { namedCurve: "P-256" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  const jwk = publicKey.export({ format: "jwk" });
  const point = Buffer.concat([
    Buffer.from([0x04]),
    Buffer.from(jwk.x ?? "", "base64url"),
    Buffer.from(jwk.y ?? "", "base64url"),
  ]);
  const keyId = createHash("sha1").update(point).digest();
  return { privateKey, publicKey, spki, keyId };
}

const name = (cn: string): Der => sequence(set(sequence(oid(OID.commonName), utf8(cn))));

function extension(id: string, critical: boolean, value: Der): Der {
  return critical ? sequence(oid(id), bool(true), octets(value)) : sequence(oid(id), octets(value));
}

/** KeyUsage bits (RFC 5280 §4.2.1.3): digitalSignature is bit 0, keyCertSign 5, cRLSign 6. */
const KEY_USAGE_CA = bits(Buffer.from([0b0000_0110]), 1);
const KEY_USAGE_LEAF = bits(Buffer.from([0b1000_0000]), 7);

function certificate(fields: {
  issuer: string;
  subject: string;
  subjectKeys: Keys;
  signer: Keys;
  notBefore: Date;
  notAfter: Date;
  extensions: Der[];
}): string {
  // A positive serial of 16 random bytes (RFC 5280 §4.1.2.2: at most 20).
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    unsigned(serial),
    algorithm,
    name(fields.issuer),
    sequence(time(fields.notBefore), time(fields.notAfter)),
    name(fields.subject),
    fields.subjectKeys.spki,
    explicit(3, sequence(...fields.extensions)),
  );
  // ECDSA signatures from node:crypto are DER (dsaEncoding "der"), as X.509 wants them.
  const signature = sign("sha256", tbs, fields.signer.privateKey);
  return pem("CERTIFICATE", sequence(tbs, algorithm, bits(signature)));
}

function pem(label: string, der: Buffer): string {
  const b64 = der
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export async function makeTlsMaterial(now: Date = new Date()): Promise<TlsMaterial> {
  const notBefore = new Date(now.getTime() - DAY_MS);
  const notAfter = new Date(now.getTime() + 30 * DAY_MS);
  const [ca, leaf] = await Promise.all([newKeys(), newKeys()]);
  const caName = "codex-pool simulator CA";

  const caPem = certificate({
    issuer: caName,
    subject: caName,
    subjectKeys: ca,
    signer: ca,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, sequence(bool(true), integer(0))),
      extension(OID.keyUsage, true, KEY_USAGE_CA),
      extension(OID.subjectKeyIdentifier, false, octets(ca.keyId)),
    ],
  });

  const certPem = certificate({
    issuer: caName,
    subject: "127.0.0.1",
    subjectKeys: leaf,
    signer: ca,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, sequence()),
      extension(OID.keyUsage, true, KEY_USAGE_LEAF),
      extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
      extension(
        OID.subjectAltName,
        false,
        sequence(implicit(7, Buffer.from([127, 0, 0, 1])), implicit(2, Buffer.from("localhost"))),
      ),
      extension(OID.subjectKeyIdentifier, false, octets(leaf.keyId)),
      extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, ca.keyId))),
    ],
  });

  const keyPem = leaf.privateKey.export({ type: "pkcs8", format: "pem" });
  return { caPem, certPem, keyPem: typeof keyPem === "string" ? keyPem : keyPem.toString() };
}
