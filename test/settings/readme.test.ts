import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { withSettingsDoc } from "../../src/platform/settings-doc.js";
import { SETTINGS, SETTING_NAMES } from "../../src/platform/settings-table.js";
import { ROOT } from "../helpers/cli.js";

describe("README", () => {
  it("holds the settings table generated from the settings definition (run `npm run docs`)", async () => {
    const readme = await fs.readFile(path.join(ROOT, "README.md"), "utf8");
    expect(withSettingsDoc(readme)).toBe(readme);
    for (const name of SETTING_NAMES) expect(readme).toContain(SETTINGS[name].env);
  });

  it("shows the two set-up commands at the top", async () => {
    const readme = await fs.readFile(path.join(ROOT, "README.md"), "utf8");
    const head = readme.split("\n").slice(0, 30).join("\n");
    expect(head).toContain("npm ci");
    expect(head).toContain("npm test");
  });
});
