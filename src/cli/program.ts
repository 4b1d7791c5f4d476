/**
 * commander, built from the declarations (declarations.ts). Each handler lives in
 * src/cli/commands/<name>.ts and is loaded only when its command runs, so start-up stays small.
 * Handlers return an exit code or throw a CodexPoolError.
 */
import { Argument, Command, Option } from "commander";
import { EXIT_CLASSES, ERROR_CODES } from "../platform/exit-codes.js";
import { SETTINGS, SETTING_NAMES } from "../platform/settings-table.js";
import type { SettingName } from "../platform/settings-table.js";
import type { CommandContext } from "./context.js";
import {
  COMMAND_NAMES,
  COMMANDS,
  GLOBAL_OPTIONS,
  type CommandDecl,
  type CommandInput,
  type CommandName,
  type Handler,
  type InputOf,
  type OptionDecl,
} from "./declarations.js";

export const VERSION = "0.1.0";

/**
 * Every command's handler, typed by its declaration: a handler whose input type does not match
 * what its command declares does not compile (test/cli/declarations.typecheck.ts proves it).
 */
export const HANDLERS: { readonly [N in CommandName]: () => Promise<Handler<CommandInput<N>>> } = {
  login: async () => (await import("./commands/login.js")).login,
  import: async () => (await import("./commands/import.js")).importCmd,
  list: async () => (await import("./commands/list.js")).list,
  status: async () => (await import("./commands/status.js")).status,
  switch: async () => (await import("./commands/switch.js")).switchCmd,
  remove: async () => (await import("./commands/remove.js")).remove,
  run: async () => (await import("./commands/run.js")).run,
  doctor: async () => (await import("./commands/doctor.js")).doctor,
  demo: async () => (await import("./commands/demo.js")).demo,
  completion: async () => (await import("./commands/completion.js")).completion,
  shim: async () => (await import("./commands/shim.js")).shim,
  db: async () => (await import("./commands/db.js")).db,
  simulator: async () => (await import("./commands/simulator.js")).simulator,
};

/** A parsed command, ready to run once the context is built. */
export interface BoundCommand {
  readonly name: CommandName;
  run(ctx: CommandContext): Promise<number>;
}

export interface ProgramHooks {
  /** Runs a command: builds the context (with the global flags) and calls the handler. */
  invoke(command: BoundCommand, flags: Partial<Record<SettingName, string>>): Promise<void>;
}

export interface ProgramOptions {
  /** A `--json` run: commander prints nothing itself, main reports its errors as JSON. */
  readonly json?: boolean;
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

function exitCodesHelp(): string {
  const lines = [
    "",
    "Exit codes (`code` of a --json error in brackets; `run` passes codex's own):",
  ];
  lines.push(`  ${"0".padStart(3)}  success`);
  for (const code of ERROR_CODES) {
    const c = EXIT_CLASSES[code];
    lines.push(`  ${String(c.exit).padStart(3)}  [${code}] ${c.meaning}`);
  }
  return lines.join("\n");
}

function optionOf(decl: OptionDecl): Option {
  const option = new Option(decl.flags, decl.description);
  if (decl.kind === "value" && decl.choices !== undefined) option.choices(decl.choices);
  return option;
}

/**
 * The handler's input from what commander parsed. The one place values cross from commander's
 * untyped results into `InputOf<D>`: each is checked against its declared kind first.
 */
export function inputOf<D extends CommandDecl>(decl: D, command: Command): InputOf<D> {
  const input: Record<string, unknown> = {};
  const opts = command.opts();
  Object.entries(decl.args).forEach(([key, arg], index) => {
    const value: unknown = command.processedArgs[index];
    const ok = arg.variadic
      ? Array.isArray(value) && value.every((v) => typeof v === "string")
      : typeof value === "string" || (!arg.required && value === undefined);
    if (!ok) throw new Error(`argument ${arg.name} parsed as ${typeof value}`);
    input[key] = value;
  });
  for (const [key, option] of Object.entries(decl.options)) {
    const value: unknown = opts[key];
    if (option.kind === "value") {
      if (value !== undefined && typeof value !== "string") {
        throw new Error(`option ${option.flags} parsed as ${typeof value}`);
      }
      input[key] = value;
    } else {
      input[key] = option.kind === "flag" ? value === true : value !== false;
    }
  }
  return input as InputOf<D>;
}

function bind<N extends CommandName>(name: N, command: Command): BoundCommand {
  const input = inputOf(COMMANDS[name], command);
  return {
    name,
    async run(ctx) {
      const handler = await HANDLERS[name]();
      return handler(ctx, input);
    },
  };
}

function declare(program: Command, name: CommandName, decl: CommandDecl): Command {
  const cmd = program.command(name, { hidden: decl.hidden === true }).description(decl.description);
  if (decl.alias !== undefined) cmd.alias(decl.alias);
  for (const arg of Object.values(decl.args)) {
    const shown = arg.variadic ? `${arg.name}...` : arg.name;
    const argument = new Argument(arg.required ? `<${shown}>` : `[${shown}]`, arg.description);
    if (arg.choices !== undefined) argument.choices(arg.choices);
    cmd.addArgument(argument);
  }
  for (const [key, option] of Object.entries(decl.options)) {
    const made = optionOf(option);
    // The declaration's key is the handler's name for it: it must be commander's too.
    if (made.attributeName() !== key) {
      throw new Error(
        `option ${option.flags} of ${name} must be declared as "${made.attributeName()}"`,
      );
    }
    cmd.addOption(made);
  }
  if (decl.passThrough === true) cmd.allowUnknownOption().passThroughOptions().helpOption(false);
  if (decl.examples.length > 0) {
    cmd.addHelpText("after", `\nExamples:\n${decl.examples.map((e) => `  ${e}`).join("\n")}`);
  }
  return cmd;
}

export function buildProgram(hooks: ProgramHooks, options: ProgramOptions = {}): Command {
  const program = new Command("codex-pool");
  // Set before the commands are declared, which inherit it: commander throws, main decides the
  // exit code (2 for every usage error, whichever command it is in).
  program.exitOverride();
  if (options.json === true) {
    // Inherited by every command declared below: the error is reported once, as JSON, by main.
    program.configureOutput({ outputError: () => undefined, writeErr: () => undefined });
  }
  program
    .description(
      "Keep your Codex CLI work running across a pool of ChatGPT accounts: sign in several, " +
        "see every account's quota (each window and allowance), and run codex supervised so a session " +
        "moves to a healthy account when one runs out.",
    )
    .version(VERSION, "-V, --version")
    .enablePositionalOptions()
    .showHelpAfterError("(run codex-pool --help for usage)")
    .addHelpText("after", settingsHelp() + "\n" + exitCodesHelp());
  for (const option of Object.values(GLOBAL_OPTIONS)) program.addOption(optionOf(option));

  const flags = (): Partial<Record<SettingName, string>> => {
    const o = program.opts<{ poolHome?: string; codexHome?: string }>();
    return {
      ...(o.poolHome !== undefined ? { poolHome: o.poolHome } : {}),
      ...(o.codexHome !== undefined ? { codexHome: o.codexHome } : {}),
    };
  };

  for (const name of COMMAND_NAMES) {
    declare(program, name, COMMANDS[name]).action(async (...values: unknown[]) => {
      // commander passes the command itself last.
      const command = values.at(-1);
      if (!(command instanceof Command)) throw new Error(`${name}: no command to read`);
      await hooks.invoke(bind(name, command), flags());
    });
  }
  return program;
}
