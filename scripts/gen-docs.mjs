// Regenerates the settings table in README.md from the settings definition (npm run docs).
import fs from "node:fs";
import { withSettingsDoc } from "../dist/platform/settings-doc.js";

const file = new URL("../README.md", import.meta.url);
const before = fs.readFileSync(file, "utf8");
const after = withSettingsDoc(before);
if (after !== before) fs.writeFileSync(file, after);
process.stdout.write(
  after === before ? "README.md is up to date\n" : "README.md settings table updated\n",
);
