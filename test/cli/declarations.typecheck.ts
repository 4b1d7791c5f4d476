/**
 * Type-level proof, checked by `npm run typecheck` (tsconfig.json includes test/; vitest does not
 * run this file): a handler whose input type does not match its command's declaration does not
 * compile. `loads` takes exactly the type of program.ts's HANDLERS entry for that command, so each
 * `@ts-expect-error` below fails the typecheck if the mismatch ever stops being an error.
 */
import type { CommandContext } from "../../src/cli/context.js";
import type { CommandName } from "../../src/cli/declarations.js";
import type { HANDLERS } from "../../src/cli/program.js";

function loads<N extends CommandName>(_name: N, _loader: (typeof HANDLERS)[N]): void {
  // types only
}

type Ctx = CommandContext;
const done = (): Promise<number> => Promise.resolve(0);
/** A loader of a handler written in place. */
const loader =
  <A extends unknown[]>(handler: (ctx: Ctx, ...input: A) => Promise<number>) =>
  () =>
    Promise.resolve(handler);

// The real handlers fit their own declarations (as program.ts also checks)…
loads("status", async () => (await import("../../src/cli/commands/status.js")).status);
loads("switch", async () => (await import("../../src/cli/commands/switch.js")).switchCmd);
// …and a handler may ignore a declared option.
loads(
  "status",
  loader((_ctx: Ctx, _o: { json: boolean }) => done()),
);

loads(
  "status",
  // @ts-expect-error `--json` is declared as a flag: a boolean, not a string.
  loader((_ctx: Ctx, _o: { json: string; refresh: boolean }) => done()),
);

loads(
  "list",
  // @ts-expect-error `--verbose` is not declared for list.
  loader((_ctx: Ctx, _o: { json: boolean; verbose: boolean }) => done()),
);

loads(
  "run",
  // @ts-expect-error `--account <account>` may be absent: string | undefined, not string.
  loader((_ctx: Ctx, _o: { codexArgs: string[]; account: string }) => done()),
);

loads(
  "completion",
  // @ts-expect-error the shell is one of bash, zsh and fish, not only bash.
  loader((_ctx: Ctx, _o: { shell: "bash" }) => done()),
);

// @ts-expect-error switch's handler under remove's declaration: remove has no `best`.
loads("remove", async () => (await import("../../src/cli/commands/switch.js")).switchCmd);

loads(
  "remove",
  // @ts-expect-error the old positional signature (ctx, account, opts) no longer fits.
  loader((_ctx: Ctx, _account: string, _o: { yes: boolean }) => done()),
);
