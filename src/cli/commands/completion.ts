/**
 * `codex-pool completion bash|zsh|fish`: completion scripts derived from the command declarations
 * in program.ts, so a new command or option is completed without touching this file.
 */
import { UsageError } from "../../platform/errors.js";
import type { CommandContext } from "../context.js";
import { buildProgram } from "../program.js";

interface CommandSpec {
  name: string;
  description: string;
  options: string[];
}

export function commandSpecs(): CommandSpec[] {
  const program = buildProgram({ invoke: () => Promise.resolve() });
  return program.commands
    .filter((c) => !(c as unknown as { _hidden?: boolean })._hidden)
    .map((c) => ({
      name: c.name(),
      description: c.description(),
      options: c.options.map((o) => o.long).filter((l): l is string => l !== undefined),
    }));
}

function bash(specs: CommandSpec[]): string {
  const cases = specs
    .map((s) => `    ${s.name}) opts="${[...s.options, "--help"].join(" ")}" ;;`)
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
  if [ "$cmd" = "completion" ]; then opts="bash zsh fish"; fi
  if [ "$cmd" = "shim" ]; then opts="install uninstall print --dir"; fi
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
        `      ${s.name}) _values 'option' ${[...s.options, "--help"].map((o) => `'${o}'`).join(" ")} ;;`,
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
    lines.push(`complete -c codex-pool -n '__fish_use_subcommand' -a ${s.name} -d '${desc}'`);
    for (const o of s.options) {
      lines.push(
        `complete -c codex-pool -n '__fish_seen_subcommand_from ${s.name}' -l ${o.slice(2)}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

export function completionScript(shell: string): string {
  const specs = commandSpecs();
  switch (shell) {
    case "bash":
      return bash(specs);
    case "zsh":
      return zsh(specs);
    case "fish":
      return fish(specs);
    default:
      throw new UsageError(`unknown shell "${shell}": use bash, zsh or fish`);
  }
}

export function completion(ctx: CommandContext, shell: string): Promise<number> {
  ctx.out.stdout.write(completionScript(shell));
  return Promise.resolve(0);
}
