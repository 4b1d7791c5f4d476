/**
 * The shape of a command declaration (declarations.ts) and the handler input derived from it:
 * a flag is a boolean, `--no-x` a boolean that is true unless given, a value option a string or
 * undefined; an argument a string (a union of its choices), undefined when optional, an array when
 * variadic.
 */
import type { CommandContext } from "./context.js";

/** `--json`: present → true. */
export interface FlagDecl {
  readonly kind: "flag";
  /** commander's flags string: "--json", "-y, --yes". */
  readonly flags: string;
  readonly description: string;
}

/** `--no-browser`: true unless given. */
export interface NegatedDecl {
  readonly kind: "negated";
  readonly flags: `--no-${string}`;
  readonly description: string;
}

/** `--account <account>`: the string given, or undefined. */
export interface ValueDecl {
  readonly kind: "value";
  readonly flags: `--${string} <${string}>`;
  /** The only values accepted (commander refuses others with exit 2); completion offers them. */
  readonly choices?: readonly string[];
  readonly description: string;
}

export type OptionDecl = FlagDecl | NegatedDecl | ValueDecl;

export interface ArgDecl {
  /** As help shows it: `<account>`, `[codex-args...]`. */
  readonly name: string;
  readonly required: boolean;
  readonly variadic?: boolean;
  /** The only values accepted (commander refuses others with exit 2); completion offers them. */
  readonly choices?: readonly string[];
  readonly description: string;
}

export interface CommandDecl {
  readonly description: string;
  readonly alias?: string;
  /** Positional arguments, in order; the key is their name in the handler's input. */
  readonly args: Readonly<Record<string, ArgDecl>>;
  /** Options; the key is their name in the handler's input (commander's attribute name). */
  readonly options: Readonly<Record<string, OptionDecl>>;
  readonly examples: readonly string[];
  readonly hidden?: boolean;
  /** Everything after the command's own options belongs to codex, untouched (`run`). */
  readonly passThrough?: boolean;
}

type OptionValue<O extends OptionDecl> = O extends ValueDecl
  ? (O extends { readonly choices: readonly (infer C extends string)[] } ? C : string) | undefined
  : boolean;

type ArgValue<A extends ArgDecl> = A extends { readonly variadic: true }
  ? string[]
  : | (A extends { readonly choices: readonly (infer C extends string)[] } ? C : string)
    | (A extends { readonly required: true } ? never : undefined);

/** What a handler receives: every argument and option of its declaration, by key. */
export type InputOf<D extends CommandDecl> = {
  readonly [K in keyof D["args"]]: ArgValue<D["args"][K]>;
} & { readonly [K in keyof D["options"]]: OptionValue<D["options"][K]> } extends infer I
  ? { readonly [K in keyof I]: I[K] }
  : never;

/** A command's handler: the parsed input in, an exit code out (errors are thrown). */
export type Handler<I> = (ctx: CommandContext, input: I) => Promise<number>;
