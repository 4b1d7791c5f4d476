/**
 * Every command of the command line (docs/decisions.md, "The command line"), as data. program.ts
 * builds commander from it, completion.ts writes completion scripts from it, main.ts reads it to
 * know a `--json` run before commander parses, and each handler's input type is derived from it
 * (`CommandInput<"status">`), so an option's type is checked against its declaration: program.ts
 * pairs every declaration with its handler under `Handler<CommandInput<N>>`.
 *
 * Data only (no commander, no handler imports): loading it costs nothing at start-up and nothing
 * here can form an import cycle with the code that reads it.
 */
import type { CommandDecl, FlagDecl, InputOf, OptionDecl } from "./declaration-types.js";

export type * from "./declaration-types.js";

/** The program's own options, before the command (`codex-pool --pool-home DIR list`). */
export const GLOBAL_OPTIONS = {
  poolHome: {
    kind: "value",
    flags: "--pool-home <dir>",
    description: "the pool's directory (CODEX_POOL_HOME)",
  },
  codexHome: {
    kind: "value",
    flags: "--codex-home <dir>",
    description: "the Codex CLI's home (CODEX_HOME)",
  },
  debug: { kind: "flag", flags: "--debug", description: "show stack traces for unexpected errors" },
} as const satisfies Record<string, OptionDecl>;

const JSON_OPTION = {
  kind: "flag",
  flags: "--json",
  description: "machine-readable output (errors too: one JSON object on stderr)",
} as const satisfies FlagDecl;

const ACCOUNT_HELP = "the account: its number in `list`, its email or its id";

export const COMMANDS = {
  login: {
    description: "add an account: sign in with ChatGPT in the browser (or by device code)",
    args: {},
    options: {
      device: {
        kind: "flag",
        flags: "--device",
        description: "use the device-code flow (for machines without a browser)",
      },
      browser: {
        kind: "negated",
        flags: "--no-browser",
        description: "do not open a browser: print the URL and paste the redirect URL back",
      },
    },
    examples: ["codex-pool login", "codex-pool login --device"],
  },
  import: {
    description: "add the account held in a Codex auth.json",
    args: {},
    options: {
      authFile: {
        kind: "value",
        flags: "--auth-file <path>",
        description: "the auth.json to import (default: $CODEX_HOME/auth.json)",
      },
      json: JSON_OPTION,
    },
    examples: ["codex-pool import", "codex-pool import --auth-file ~/backup/auth.json"],
  },
  list: {
    description: "list the accounts in the pool",
    alias: "ls",
    args: {},
    options: { json: JSON_OPTION },
    examples: ["codex-pool list", "codex-pool list --json"],
  },
  status: {
    description: "quota per account: each window and allowance left, resets, bottleneck",
    args: {},
    options: {
      json: JSON_OPTION,
      refresh: {
        kind: "flag",
        flags: "--refresh",
        description: "probe every account now, whatever the age of its snapshot",
      },
    },
    examples: ["codex-pool status", "codex-pool status --refresh --json"],
  },
  switch: {
    description: "make an account the default and write it to $CODEX_HOME/auth.json",
    args: { account: { name: "account", required: false, description: ACCOUNT_HELP } },
    options: {
      best: {
        kind: "flag",
        flags: "--best",
        description: "switch to the account selection would choose now",
      },
      json: JSON_OPTION,
    },
    examples: [
      "codex-pool switch 2",
      "codex-pool switch bob@example.com",
      "codex-pool switch --best",
    ],
  },
  remove: {
    description: "remove an account from the pool",
    alias: "rm",
    args: { account: { name: "account", required: true, description: ACCOUNT_HELP } },
    options: {
      yes: { kind: "flag", flags: "-y, --yes", description: "do not ask for confirmation" },
      json: JSON_OPTION,
    },
    examples: ["codex-pool remove 2", "codex-pool remove alice@example.com --yes"],
  },
  run: {
    description: "run codex under the best account, supervised (TUI, resume, exec)",
    args: {
      codexArgs: {
        name: "codex-args",
        required: false,
        variadic: true,
        description: "arguments for codex, untouched (put pool options first)",
      },
    },
    options: {
      account: {
        kind: "value",
        flags: "--account <account>",
        description: "pin this account for the run (number, email or id)",
      },
      wait: {
        kind: "negated",
        flags: "--no-wait",
        description: "when every account is out, exit at once instead of waiting for a reset",
      },
      mode: {
        kind: "value",
        flags: "--mode <mode>",
        choices: ["live", "relaunch"],
        description:
          "how the session moves to another account: live (no restart, the default where tested) or relaunch",
      },
    },
    passThrough: true,
    examples: [
      "codex-pool run",
      'codex-pool run -- exec "fix the failing test"',
      "codex-pool run --account 2 -- resume --last",
      "codex-pool run --mode relaunch",
    ],
  },
  doctor: {
    description: "check paths, permissions, the codex binary, config and tokens",
    args: {},
    options: { json: JSON_OPTION },
    examples: ["codex-pool doctor", "codex-pool doctor --json"],
  },
  demo: {
    description: "the whole story against the built-in simulator (no account or network needed)",
    args: {},
    options: {
      tui: { kind: "flag", flags: "--tui", description: "show the interactive codex TUI version" },
      mode: {
        kind: "value",
        flags: "--mode <mode>",
        choices: ["live", "relaunch"],
        description: "show a live switch (the default) or the relaunching one",
      },
    },
    examples: ["codex-pool demo", "codex-pool demo --tui", "codex-pool demo --mode relaunch"],
  },
  completion: {
    description: "print a shell completion script",
    args: {
      shell: {
        name: "shell",
        required: true,
        choices: ["bash", "zsh", "fish"],
        description: "the shell",
      },
    },
    options: {},
    examples: [
      'eval "$(codex-pool completion bash)"',
      "codex-pool completion fish > ~/.config/fish/completions/codex-pool.fish",
    ],
  },
  shim: {
    description: "install or remove a `codex` shim that runs `codex-pool run`",
    args: {
      action: {
        name: "action",
        required: true,
        choices: ["install", "uninstall", "print"],
        description: "what to do",
      },
    },
    options: {
      dir: {
        kind: "value",
        flags: "--dir <dir>",
        description: "where to put the shim (default: ~/.local/bin)",
      },
    },
    examples: [
      "codex-pool shim print",
      "codex-pool shim install --dir ~/.local/bin",
      "codex-pool shim uninstall",
    ],
  },
  db: {
    description: "the shared pool in PostgreSQL (database_url): migrate, push or pull",
    args: {
      action: {
        name: "action",
        required: true,
        choices: ["migrate", "push", "pull"],
        description:
          "migrate (apply the schema), push (pool file → database), pull (database → pool file)",
      },
    },
    options: {},
    examples: ["codex-pool db migrate", "codex-pool db push", "codex-pool db pull"],
  },
  // Hidden: the simulator as a process of its own, for tests, the bench and curious users.
  simulator: {
    description: "start the loopback ChatGPT simulator",
    hidden: true,
    args: {},
    options: {
      script: { kind: "value", flags: "--script <file>", description: "a JSON scenario file" },
    },
    examples: [],
  },
} as const satisfies Record<string, CommandDecl>;

export type CommandName = keyof typeof COMMANDS;

export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

export type CommandInput<N extends CommandName> = InputOf<(typeof COMMANDS)[N]>;

/** The declaration of a command name or alias, or null. */
export function findCommand(name: string): { name: CommandName; decl: CommandDecl } | null {
  for (const key of COMMAND_NAMES) {
    const decl: CommandDecl = COMMANDS[key];
    if (key === name || decl.alias === name) return { name: key, decl };
  }
  return null;
}

/** The long flag of an option (`--auth-file` of "--auth-file <path>"). */
export function longFlag(option: OptionDecl): string {
  return /--[a-z][a-z0-9-]*/.exec(option.flags)?.[0] ?? option.flags;
}

function takesValue(options: Readonly<Record<string, OptionDecl>>, token: string): boolean {
  return Object.values(options).some((o) => o.kind === "value" && longFlag(o) === token);
}

/**
 * True when argv (after `codex-pool`) gives `--json` to a command that declares it: that run's
 * errors are JSON too. Read before commander parses, so a usage error is JSON as well.
 */
export function jsonRequested(argv: readonly string[]): boolean {
  let at = 0;
  while (at < argv.length && (argv[at] ?? "").startsWith("-")) {
    at += takesValue(GLOBAL_OPTIONS, argv[at] ?? "") ? 2 : 1;
  }
  const found = findCommand(argv[at] ?? "");
  if (found === null || !("json" in found.decl.options)) return false;
  for (let i = at + 1; i < argv.length; i += 1) {
    const token = argv[i] ?? "";
    if (token === "--") return false;
    if (token === "--json") return true;
    if (takesValue(found.decl.options, token)) i += 1;
  }
  return false;
}
