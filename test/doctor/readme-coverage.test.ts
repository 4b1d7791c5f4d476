/** Every doctor finding has a troubleshooting row in the README (issue: docs for each finding). */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";

describe("README troubleshooting", () => {
  it("names every finding id that doctor can report", async () => {
    const dir = path.join(ROOT, "src/doctor");
    const ids = new Set<string>();
    for (const file of await fs.readdir(dir)) {
      const text = await fs.readFile(path.join(dir, file), "utf8");
      for (const m of text.matchAll(/\b(?:ok|warn|fail)\(\s*"([a-z-]+)"/g)) ids.add(m[1]!);
    }
    expect(ids.size).toBeGreaterThan(10);
    const readme = await fs.readFile(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Troubleshooting"), readme.indexOf("## Limits"));
    const missing = [...ids].filter((id) => !section.includes(`\`${id}\``));
    expect(missing).toEqual([]);
  });
});
