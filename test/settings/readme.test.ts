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

  it("leads with installing the package and the demo, and keeps the clone path", async () => {
    const readme = await fs.readFile(path.join(ROOT, "README.md"), "utf8");
    const head = readme.split("\n").slice(0, 30).join("\n");
    expect(head.indexOf("npm install -g codex-pool")).toBeGreaterThan(-1);
    expect(head.indexOf("codex-pool demo")).toBeGreaterThan(head.indexOf("npm install -g"));
    const install = readme.slice(readme.indexOf("## Install"), readme.indexOf("## Quick start"));
    expect(install.indexOf("npm install -g codex-pool")).toBeLessThan(install.indexOf("npm ci"));
    expect(install).toContain("npm test");
  });
});
