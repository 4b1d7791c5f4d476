/**
 * The simulator's CA and leaf (src/simulator/tls.ts, written by our DER encoder): node's own X.509
 * parser and a real TLS handshake accept them; the real codex (rustls) does in codex-real.test.ts.
 */
import { X509Certificate } from "node:crypto";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import { integer, oid, time, tlv, unsigned } from "../../src/simulator/der.js";
import { makeTlsMaterial } from "../../src/simulator/tls.js";

describe("simulator certificates", () => {
  it("make a CA and a leaf for 127.0.0.1 and localhost that chain and verify", async () => {
    const now = new Date("2026-06-01T12:00:00Z");
    const m = await makeTlsMaterial(now);
    const ca = new X509Certificate(m.caPem);
    const leaf = new X509Certificate(m.certPem);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(leaf.checkHost("localhost")).toBe("localhost");
    expect(leaf.checkHost("example.com")).toBeUndefined();
    expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(new Date(leaf.validFrom).getTime()).toBeLessThan(now.getTime());
    expect(new Date(leaf.validTo).getTime()).toBeGreaterThan(now.getTime());
    expect(leaf.serialNumber).not.toBe(ca.serialNumber);
    expect(m.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it("serve TLS that a client trusting only the CA accepts, by IP and by name", async () => {
    const m = await makeTlsMaterial();
    const server = tls.createServer({ cert: m.certPem, key: m.keyPem }, (s) => s.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      for (const servername of [undefined, "localhost"]) {
        const text = await new Promise<string>((resolve, reject) => {
          const socket = tls.connect({
            host: "127.0.0.1",
            port,
            ca: m.caPem,
            ...(servername !== undefined ? { servername } : {}),
          });
          let data = "";
          socket.setEncoding("utf8").on("data", (d: string) => (data += d));
          socket.on("end", () => resolve(data));
          socket.on("error", reject);
        });
        expect(text).toBe("ok");
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("patch no global: no Reflect metadata polyfill is loaded", async () => {
    await makeTlsMaterial();
    expect("getMetadata" in Reflect).toBe(false);
    expect("defineMetadata" in Reflect).toBe(false);
  });
});

describe("DER encoder", () => {
  it("writes the X.690 forms the certificates use", () => {
    expect(tlv(0x04, Buffer.alloc(3)).toString("hex")).toBe("0403000000");
    // Long-form lengths: 200 bytes → 81 c8; 300 bytes → 82 01 2c.
    expect(tlv(0x04, Buffer.alloc(200)).subarray(0, 3).toString("hex")).toBe("0481c8");
    expect(tlv(0x04, Buffer.alloc(300)).subarray(0, 4).toString("hex")).toBe("0482012c");
    expect(integer(0).toString("hex")).toBe("020100");
    expect(integer(2).toString("hex")).toBe("020102");
    expect(integer(255).toString("hex")).toBe("020200ff");
    expect(unsigned(Buffer.from([0, 0, 0x7f])).toString("hex")).toBe("02017f");
    expect(unsigned(Buffer.from([0x80])).toString("hex")).toBe("02020080");
    expect(oid("1.2.840.10045.4.3.2").toString("hex")).toBe("06082a8648ce3d040302");
    expect(oid("2.5.29.19").toString("hex")).toBe("0603551d13");
    expect(time(new Date("2026-06-01T12:00:00Z")).toString("latin1")).toBe("\x17\x0d260601120000Z");
    expect(time(new Date("2050-01-01T00:00:00Z")).toString("latin1")).toBe(
      "\x18\x0f20500101000000Z",
    );
  });
});
