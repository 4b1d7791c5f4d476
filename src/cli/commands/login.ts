/**
 * `codex-pool login [--device] [--no-browser]`: signs in one ChatGPT account (browser PKCE, pasted
 * redirect URL, or device code) and adds it to the pool, or updates its row when it is already there.
 * Progress goes to stderr; the one result line goes to stdout.
 */
import { spawn } from "node:child_process";
import readline from "node:readline";
import { browserLogin } from "../../auth/login-browser.js";
import { deviceLogin } from "../../auth/login-device.js";
import { systemBrowserOpener } from "../../auth/open-browser.js";
import { storeSignIn } from "../../auth/sign-in.js";
import type { TokenGrant } from "../../auth/token-client.js";
import { accountNameAt } from "../../pool/account-name.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";

/** `browser` is false with `--no-browser`. */
export type LoginFlags = CommandInput<"login">;

/** Reads one line from stdin (null at end of input), prompting on stderr when it is a terminal. */
function stdinReader(ctx: CommandContext): {
  read: () => Promise<string | null>;
  close: () => void;
} {
  let rl: readline.Interface | undefined;
  // Closed when login ends, also on timeout: an open reader would keep the process alive.
  const close = (): void => rl?.close();
  const read = (): Promise<string | null> =>
    new Promise((resolve) => {
      rl = readline.createInterface({ input: process.stdin, terminal: false });
      let answered = false;
      if (process.stdin.isTTY) ctx.out.stderr.write("> ");
      rl.once("line", (line) => {
        answered = true;
        close();
        resolve(line);
      });
      rl.once("close", () => {
        if (!answered) resolve(null);
      });
    });
  return { read, close };
}

export async function login(ctx: CommandContext, flags: LoginFlags): Promise<number> {
  const { out } = ctx;
  const timeoutMs = ctx.settings.loginTimeoutSeconds * 1000;
  const notify = (line: string): void => {
    for (const part of line.split("\n")) out.info(part);
  };
  let grant: TokenGrant;
  const stdin = stdinReader(ctx);
  try {
    grant = await signIn(ctx, flags, timeoutMs, notify, stdin.read);
  } finally {
    stdin.close();
  }
  const { account, created, index } = await storeSignIn(
    ctx.store,
    grant,
    new Date(ctx.clock.now()),
  );
  const plan = account.plan ? ` (${account.plan})` : "";
  out.line(
    `${created ? "Added" : "Updated"} ${accountNameAt(index, account, { reveal: true })}${plan}.`,
  );
  return 0;
}

function signIn(
  ctx: CommandContext,
  flags: LoginFlags,
  timeoutMs: number,
  notify: (line: string) => void,
  readPaste: () => Promise<string | null>,
): Promise<TokenGrant> {
  const { settings } = ctx;
  if (flags.device) {
    return deviceLogin({
      authUrl: settings.authUrl,
      fetch: ctx.fetch,
      timeoutMs,
      notify,
      clock: ctx.clock,
    });
  }
  const paste = flags.browser === false;
  return browserLogin({
    authUrl: settings.authUrl,
    fetch: ctx.fetch,
    timeoutMs,
    paste,
    ...(paste ? {} : { openBrowser: systemBrowserOpener(spawn, process.platform) }),
    readPaste,
    notify,
  });
}
