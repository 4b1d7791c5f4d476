/**
 * `codex-pool shim install|uninstall|print [--dir DIR]`: an optional `codex` script that runs
 * `codex-pool run "$@"`, so typing `codex` gets supervision. It carries a marker line, and
 * `uninstall` removes only a file that has it: a real codex binary is never touched.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { CodexPoolError, hasErrorCode } from "../../platform/errors.js";
import { homeDir } from "../../platform/paths.js";
import { SHIM_MARKER } from "../../codex/shim-marker.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";

export function shimScript(cliPath: string): string {
  // The real codex is found by codex-pool itself (CODEX_POOL_CODEX_BIN, PATH without this shim,
  // or the bundled dependency), so the shim cannot call itself in a loop.
  return `#!/bin/sh
${SHIM_MARKER}
exec "${process.execPath}" "${cliPath}" run -- "$@"
`;
}

export async function shim(ctx: CommandContext, input: CommandInput<"shim">): Promise<number> {
  const dir = input.dir ?? path.join(homeDir(ctx.env), ".local", "bin");
  const file = path.join(dir, "codex");
  const cliPath = process.argv[1] ?? "codex-pool";
  switch (input.action) {
    case "print":
      ctx.out.stdout.write(shimScript(cliPath));
      return 0;
    case "install": {
      let existing: string | null = null;
      try {
        existing = await fs.readFile(file, "utf8");
      } catch (error) {
        if (!hasErrorCode(error, "ENOENT")) throw error;
      }
      if (existing !== null && !existing.includes(SHIM_MARKER)) {
        throw new CodexPoolError(
          `${file} exists and is not a codex-pool shim (is it the real codex?); choose another --dir`,
        );
      }
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(file, shimScript(cliPath), { mode: 0o755 });
      await fs.chmod(file, 0o755);
      ctx.out.line(`Installed ${file}: \`codex …\` now runs \`codex-pool run -- …\`.`);
      const onPath = (ctx.env["PATH"] ?? "").split(path.delimiter).includes(dir);
      if (!onPath)
        ctx.out.info(`${dir} is not on your PATH; add it before the real codex's folder`);
      return 0;
    }
    case "uninstall": {
      let existing: string;
      try {
        existing = await fs.readFile(file, "utf8");
      } catch (error) {
        if (hasErrorCode(error, "ENOENT")) {
          ctx.out.line(`No shim at ${file}; nothing to do.`);
          return 0;
        }
        throw error;
      }
      if (!existing.includes(SHIM_MARKER)) {
        throw new CodexPoolError(`${file} is not a codex-pool shim; left untouched`);
      }
      await fs.rm(file);
      ctx.out.line(`Removed ${file}.`);
      return 0;
    }
  }
}
