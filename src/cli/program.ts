/**
 * The command-line contract (PRODUCT.md): every command and option is declared here; each handler
 * lives in src/cli/commands/<name>.ts and is loaded only when its command runs, so start-up stays
 * small. Handlers return an exit code or throw a CodexPoolError.
 */
import { Command, Option } from "commander";
import { SETTINGS, SETTING_NAMES } from "../platform/settings-table.js";
import type { SettingName } from "../platform/settings-table.js";
import type { CommandContext, ContextOptions } from "./context.js";

export const VERSION = "0.1.0";

export type Handler<A extends unknown[] = unknown[]> = (
  ctx: CommandContext,
  ...args: A
) => Promise<number>;

export interface ProgramHooks {
  /** Runs a command: builds the context (with the global flags) and calls the handler. */
  invoke(
    load: () => Promise<(ctx: CommandContext, ...args: never[]) => Promise<number>>,
    args: unknown[],
    flags: Partial<Record<SettingName, string>>,
    extra?: Partial<ContextOptions>,
  ): Promise<void>;
}

function settingsHelp(): string {
  const lines = ["", "Settings (defaults < $CODEX_POOL_HOME/config.toml < environment < flags):"];
  for (const name of SETTING_NAMES) {
    const def = SETTINGS[name];
    const dflt = def.default === "" ? "auto" : def.default;
    lines.push(`  ${def.env.padEnd(30)} ${def.description} [default: ${dflt}]`);
  }
  return lines.join("\n");
}

export function buildProgram(hooks: ProgramHooks): Command {
  const program = new Command("codex-pool");
  program
    .description(
      "Keep your Codex CLI work running across a pool of ChatGPT accounts: sign in several, " +
        "see every account's 5-hour and weekly quota, and run codex supervised so a session " +
        "moves to a healthy account when one runs out.",
    )
    .version(VERSION, "-V, --version")
    .option("--pool-home <dir>", "the pool's directory (CODEX_POOL_HOME)")
    .option("--codex-home <dir>", "the Codex CLI's home (CODEX_HOME)")
    .option("--debug", "show stack traces for unexpected errors")
    .enablePositionalOptions()
    .showHelpAfterError("(run codex-pool --help for usage)")
    .addHelpText("after", settingsHelp());

  const flags = (): Partial<Record<SettingName, string>> => {
    const o = program.opts<{ poolHome?: string; codexHome?: string }>();
    return {
      ...(o.poolHome !== undefined ? { poolHome: o.poolHome } : {}),
      ...(o.codexHome !== undefined ? { codexHome: o.codexHome } : {}),
    };
  };

  program
    .command("login")
    .description("add an account: sign in with ChatGPT in the browser (or by device code)")
    .option("--device", "use the device-code flow (for machines without a browser)")
    .option("--no-browser", "do not open a browser: print the URL and paste the redirect URL back")
    .addHelpText("after", "\nExamples:\n  codex-pool login\n  codex-pool login --device")
    .action(async (opts: object) => {
      await hooks.invoke(async () => (await import("./commands/login.js")).login, [opts], flags());
    });

  program
    .command("import")
    .description("add the account held in a Codex auth.json")
    .option("--auth-file <path>", "the auth.json to import (default: $CODEX_HOME/auth.json)")
    .addHelpText(
      "after",
      "\nExamples:\n  codex-pool import\n  codex-pool import --auth-file ~/backup/auth.json",
    )
    .action(async (opts: object) => {
      await hooks.invoke(
        async () => (await import("./commands/import.js")).importCmd,
        [opts],
        flags(),
      );
    });

  program
    .command("list")
    .alias("ls")
    .description("list the accounts in the pool")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExamples:\n  codex-pool list\n  codex-pool list --json")
    .action(async (opts: object) => {
      await hooks.invoke(async () => (await import("./commands/list.js")).list, [opts], flags());
    });

  program
    .command("status")
    .description("quota per account: 5-hour and weekly left, resets, bottleneck")
    .option("--json", "machine-readable output")
    .option("--refresh", "probe every account now, whatever the age of its snapshot")
    .addHelpText("after", "\nExamples:\n  codex-pool status\n  codex-pool status --refresh --json")
    .action(async (opts: object) => {
      await hooks.invoke(
        async () => (await import("./commands/status.js")).status,
        [opts],
        flags(),
      );
    });

  program
    .command("switch")
    .description("make an account the default and write it to $CODEX_HOME/auth.json")
    .argument("[account]", "the account: its number in `list`, its email or its id")
    .option("--best", "switch to the account selection would choose now")
    .addHelpText(
      "after",
      "\nExamples:\n  codex-pool switch 2\n  codex-pool switch bob@example.com\n  codex-pool switch --best",
    )
    .action(async (account: string | undefined, opts: object) => {
      await hooks.invoke(
        async () => (await import("./commands/switch.js")).switchCmd,
        [account, opts],
        flags(),
      );
    });

  program
    .command("remove")
    .alias("rm")
    .description("remove an account from the pool")
    .argument("<account>", "the account: its number in `list`, its email or its id")
    .option("-y, --yes", "do not ask for confirmation")
    .addHelpText(
      "after",
      "\nExamples:\n  codex-pool remove 2\n  codex-pool remove alice@example.com --yes",
    )
    .action(async (account: string, opts: object) => {
      await hooks.invoke(
        async () => (await import("./commands/remove.js")).remove,
        [account, opts],
        flags(),
      );
    });

  program
    .command("run")
    .description("run codex under the best account, supervised (TUI, resume, exec)")
    .argument("[codex-args...]", "arguments for codex, untouched (put pool options first)")
    .option("--account <account>", "pin this account for the run (number, email or id)")
    .option("--no-wait", "when every account is out, exit at once instead of waiting for a reset")
    .allowUnknownOption()
    .passThroughOptions()
    .helpOption(false)
    .addHelpText(
      "after",
      '\nExamples:\n  codex-pool run\n  codex-pool run -- exec "fix the failing test"\n  codex-pool run --account 2 -- resume --last',
    )
    .action(async (codexArgs: string[], opts: object) => {
      await hooks.invoke(
        async () => (await import("./commands/run.js")).run,
        [codexArgs, opts],
        flags(),
      );
    });

  program
    .command("doctor")
    .description("check paths, permissions, the codex binary, config and tokens")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExamples:\n  codex-pool doctor\n  codex-pool doctor --json")
    .action(async (opts: object) => {
      await hooks.invoke(
        async () => (await import("./commands/doctor.js")).doctor,
        [opts],
        flags(),
      );
    });

  program
    .command("demo")
    .description("the whole story against the built-in simulator (no account or network needed)")
    .option("--tui", "show the interactive codex TUI version")
    .addHelpText("after", "\nExamples:\n  codex-pool demo\n  codex-pool demo --tui")
    .action(async (opts: object) => {
      await hooks.invoke(async () => (await import("./commands/demo.js")).demo, [opts], flags());
    });

  program
    .command("completion")
    .description("print a shell completion script")
    .argument("<shell>", "bash, zsh or fish")
    .addHelpText(
      "after",
      '\nExamples:\n  eval "$(codex-pool completion bash)"\n  codex-pool completion fish > ~/.config/fish/completions/codex-pool.fish',
    )
    .action(async (shell: string) => {
      await hooks.invoke(
        async () => (await import("./commands/completion.js")).completion,
        [shell],
        flags(),
      );
    });

  program
    .command("shim")
    .description("install or remove a `codex` shim that runs `codex-pool run`")
    .argument("<action>", "install, uninstall or print")
    .option("--dir <dir>", "where to put the shim (default: ~/.local/bin)")
    .addHelpText(
      "after",
      "\nExamples:\n  codex-pool shim print\n  codex-pool shim install --dir ~/.local/bin\n  codex-pool shim uninstall",
    )
    .action(async (action: string, opts: object) => {
      await hooks.invoke(
        async () => (await import("./commands/shim.js")).shim,
        [action, opts],
        flags(),
      );
    });

  program
    .command("db")
    .description("the shared pool in PostgreSQL (database_url): migrate, push or pull")
    .argument(
      "<action>",
      "migrate (apply the schema), push (pool file → database), pull (database → pool file)",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  codex-pool db migrate\n  codex-pool db push\n  codex-pool db pull",
    )
    .action(async (action: string) => {
      await hooks.invoke(async () => (await import("./commands/db.js")).db, [action], flags());
    });

  // Hidden: the simulator as a process of its own, for tests, the bench and curious users.
  program
    .command("simulator", { hidden: true })
    .description("start the loopback ChatGPT simulator")
    .option("--script <file>", "a JSON scenario file")
    .action(async (opts: object) => {
      await hooks.invoke(
        async () => (await import("./commands/simulator.js")).simulator,
        [opts],
        flags(),
      );
    });

  return program;
}

export { Option };
