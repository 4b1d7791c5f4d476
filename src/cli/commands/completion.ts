/**
 * `codex-pool completion bash|zsh|fish`: completion scripts made from the command declarations
 * (declarations.ts), so a new command, option or argument choice is completed without touching
 * this file.
 */
import type { CommandContext } from "../context.js";
import {
  COMMAND_NAMES,
  COMMANDS,
  longFlag,
  type CommandDecl,
  type CommandInput,
} from "../declarations.js";

interface CommandSpec {
  name: string;
  description: string;
  /** Long options, then the choices of its first positional argument (if it has any). */
  words: string[];
}

export function commandSpecs(): CommandSpec[] {
  const specs: CommandSpec[] = [];
  for (const name of COMMAND_NAMES) {
    const decl: CommandDecl = COMMANDS[name];
    if (decl.hidden === true) continue;
    const choices = Object.values(decl.args)[0]?.choices ?? [];
    const words = [...Object.values(decl.options).map(longFlag), ...choices];
    specs.push({ name, description: decl.description, words });
  }
  return specs;
}

function bash(specs: CommandSpec[]): string {
  const cases = specs
    .map((s) => `    ${s.name}) opts="${[...s.words, "--help"].join(" ")}" ;;`)
    .join("\n");
  return `# bash completion for codex-pool; add to ~/.bashrc:  eval "$(codex-pool completion bash)"
_codex_pool() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${specs.map((s) => s.name).join(" ")} --help --version" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -o default -F _codex_pool codex-pool
`;
}

function zsh(specs: CommandSpec[]): string {
  const commands = specs
    .map((s) => `    '${s.name}:${s.description.replace(/'/g, "'\\''").replace(/:/g, "\\:")}'`)
    .join("\n");
  const cases = specs
    .map(
      (s) =>
        `      ${s.name}) _values 'option' ${[...s.words, "--help"].map((o) => `'${o}'`).join(" ")} ;;`,
    )
    .join("\n");
  return `#compdef codex-pool
# zsh completion for codex-pool; add to ~/.zshrc:  eval "$(codex-pool completion zsh)"
_codex_pool() {
  local -a commands
  commands=(
${commands}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
  else
    case "$words[2]" in
${cases}
    esac
  fi
}
compdef _codex_pool codex-pool
`;
}

function fish(specs: CommandSpec[]): string {
  const lines = [
    "# fish completion for codex-pool; save as ~/.config/fish/completions/codex-pool.fish",
    "complete -c codex-pool -f",
  ];
  for (const s of specs) {
    const desc = s.description.replace(/'/g, "\\'");
    const seen = `'__fish_seen_subcommand_from ${s.name}'`;
    lines.push(`complete -c codex-pool -n '__fish_use_subcommand' -a ${s.name} -d '${desc}'`);
    for (const word of s.words) {
      lines.push(
        word.startsWith("--")
          ? `complete -c codex-pool -n ${seen} -l ${word.slice(2)}`
          : `complete -c codex-pool -n ${seen} -a ${word}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

const SCRIPTS: Record<CommandInput<"completion">["shell"], (specs: CommandSpec[]) => string> = {
  bash,
  zsh,
  fish,
};

export function completion(
  ctx: CommandContext,
  input: CommandInput<"completion">,
): Promise<number> {
  ctx.out.stdout.write(SCRIPTS[input.shell](commandSpecs()));
  return Promise.resolve(0);
}
