/** Atomic private writes: whole files only, mode 0600 whatever existed, private directories. */
import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import {
  ensurePrivateDir,
  removeOrphanTemps,
  tempSibling,
  writeFileAtomic,
} from "../../src/platform/atomic-file.js";
import { tempDir } from "../helpers/tmp.js";

describe("atomic files", () => {
  it("replaces a loose file with a 0600 one and leaves no temp file", async () => {
    await using dir = await tempDir();
    const file = dir.join("pool.json");
    await fs.writeFile(file, "old", { mode: 0o644 });
    await fs.chmod(file, 0o644);
    await writeFileAtomic(file, "new");
    expect(await fs.readFile(file, "utf8")).toBe("new");
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(dir.path)).toEqual(["pool.json"]);
  });

  it("creates 0700 directories, tightens ours on request, and refuses a file in the way", async () => {
    await using dir = await tempDir();
    const home = dir.join("a", "b");
    await ensurePrivateDir(home);
    expect((await fs.stat(home)).mode & 0o777).toBe(0o700);
    await fs.chmod(home, 0o755);
    await ensurePrivateDir(home);
    expect((await fs.stat(home)).mode & 0o777).toBe(0o755);
    await ensurePrivateDir(home, { tighten: true });
    expect((await fs.stat(home)).mode & 0o777).toBe(0o700);
    await fs.writeFile(dir.join("file"), "");
    await expect(ensurePrivateDir(dir.join("file"))).rejects.toThrow(/not a directory/);
  });

  it("removes only the temp siblings judged orphaned", async () => {
    await using dir = await tempDir();
    const file = dir.join("pool.json");
    const orphan = tempSibling(file).replace(`.${process.pid}.`, ".999999.");
    const mine = tempSibling(file);
    await fs.writeFile(orphan, "x");
    await fs.writeFile(mine, "x");
    await fs.writeFile(dir.join(".pool.json.lock.999999.0123456789ab.new"), "x");
    const removed = await removeOrphanTemps(file, ({ pid }) => pid === 999999);
    expect(removed).toBe(1);
    expect((await fs.readdir(dir.path)).sort()).toEqual(
      [".pool.json.lock.999999.0123456789ab.new", mine.split("/").at(-1)!].sort(),
    );
  });
});
