// Regenerates the settings and exit-code tables in README.md from their definitions (npm run docs).
import fs from "node:fs";
import { withExitCodesDoc } from "../dist/platform/exit-codes-doc.js";
import { withSettingsDoc } from "../dist/platform/settings-doc.js";

const file = new URL("../README.md", import.meta.url);
const before = fs.readFileSync(file, "utf8");
const after = withExitCodesDoc(withSettingsDoc(before));
if (after !== before) fs.writeFileSync(file, after);
process.stdout.write(
  after === before ? "README.md is up to date\n" : "README.md generated tables updated\n",
);
