/**
 * Browser sign-in with PKCE (docs/chatgpt-backend.md §2.1): print the authorize URL (always, on the
 * caller's stderr), try to open a browser, and wait for the redirect on the loopback callback
 * server. With `paste` (or when the callback port is taken) the user pastes the redirect URL, or
 * just its code, instead. Either way the state is checked and the code exchanged for tokens.
 */
import { AuthError, CancelledError } from "../platform/errors.js";
import { redact } from "../platform/redact.js";
import { CallbackPortBusyError, startCallbackServer } from "./callback-server.js";
import { CALLBACK_PORT, redirectUriFor } from "./oauth.js";
import { authorizeUrl, createPkce, createState, type Pkce } from "./pkce.js";
import { exchangeCode, type TokenGrant } from "./token-client.js";
import type { HttpFetch } from "../platform/http.js";

export interface BrowserLoginOptions {
  authUrl: string;
  fetch: HttpFetch;
  /** How long to wait for the browser (or the paste) before giving up. */
  timeoutMs: number;
  /** The callback port; the real client registration requires 1455 (tests pass another). */
  port?: number;
  /** Do not start the callback server or a browser: read the pasted redirect URL instead. */
  paste?: boolean;
  /** Opens the URL in a browser; failing is fine, the URL is printed anyway. */
  openBrowser?: (url: string) => Promise<void>;
  /** Reads one pasted line; null when the input ended. */
  readPaste: () => Promise<string | null>;
  /** A progress line for the user (the CLI prints it on stderr). */
  notify: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Parses what the user pasted: the full redirect URL, its query string, or a bare code. A URL or
 * query must carry our state; a bare code carries none to check.
 */
export function parsePasted(input: string, expectedState: string): string {
  const text = input.trim();
  if (text === "") throw new AuthError("nothing was pasted; run codex-pool login again");
  const looksLikeQuery = text.includes("://") || text.includes("=") || text.startsWith("?");
  if (!looksLikeQuery) return text;
  let params: URLSearchParams;
  try {
    params = text.includes("://")
      ? new URL(text).searchParams
      : new URLSearchParams(text.replace(/^[^?]*\?/, ""));
  } catch {
    throw new AuthError(
      "the pasted text is not a redirect URL; paste the whole address from the browser",
    );
  }
  if (params.get("state") !== expectedState) {
    throw new AuthError(
      "the pasted URL belongs to a different sign-in (state mismatch); run codex-pool login again and paste the URL it leads to",
    );
  }
  const error = params.get("error");
  if (error !== null) {
    const safe = /^[A-Za-z0-9_.-]{1,64}$/.test(error) ? error : "error";
    throw new AuthError(`sign-in was refused (${safe}); run codex-pool login again`);
  }
  const code = params.get("code");
  if (code === null || code === "") {
    throw new AuthError(
      "the pasted URL has no authorization code; paste the address the sign-in ended on",
    );
  }
  return code;
}

/**
 * Fresh PKCE + state whose URL survives redact() unchanged: every printed line is redacted, and a
 * random challenge could, very rarely, look like a token and be masked.
 */
function freshRequest(
  authUrl: string,
  redirectUri: string,
): { pkce: Pkce; state: string; url: string } {
  for (;;) {
    const pkce = createPkce();
    const state = createState();
    const url = authorizeUrl(authUrl, { challenge: pkce.challenge, state, redirectUri });
    if (redact(url) === url) return { pkce, state, url };
  }
}

function timeoutError(timeoutMs: number): AuthError {
  return new AuthError(
    `no sign-in arrived within ${Math.round(timeoutMs / 1000)}s; run codex-pool login again ` +
      "(on a machine without a browser use codex-pool login --device or --no-browser)",
  );
}

/** Resolves with `work`, or rejects on timeout or abort; always clears its timer. */
async function bounded<T>(work: Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(timeoutMs)), timeoutMs);
    if (signal) {
      onAbort = () => reject(new CancelledError());
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

async function pasteCode(
  options: BrowserLoginOptions,
  url: string,
  state: string,
): Promise<string> {
  options.notify(`Open this URL in a browser and sign in:\n  ${url}`);
  options.notify(
    "After signing in, the browser lands on a page that may fail to load; copy its full address and paste it here:",
  );
  const line = await bounded(options.readPaste(), options.timeoutMs, options.signal);
  if (line === null) {
    throw new AuthError(
      "the input ended before a redirect URL was pasted; run codex-pool login again",
    );
  }
  return parsePasted(line, state);
}

export async function browserLogin(options: BrowserLoginOptions): Promise<TokenGrant> {
  const port = options.port ?? CALLBACK_PORT;
  const redirectUri = redirectUriFor(port);
  const { pkce, state, url } = freshRequest(options.authUrl, redirectUri);
  let code: string;
  if (options.paste) {
    code = await pasteCode(options, url, state);
  } else {
    let server;
    try {
      server = await startCallbackServer({ port, state });
    } catch (error) {
      if (!(error instanceof CallbackPortBusyError)) throw error;
      options.notify(`${error.message}; falling back to pasting the redirect URL`);
    }
    if (server === undefined) {
      code = await pasteCode(options, url, state);
    } else {
      try {
        options.notify(
          `Sign in with ChatGPT in your browser. If it does not open, visit:\n  ${url}`,
        );
        options.notify(`Waiting for the browser (up to ${Math.round(options.timeoutMs / 1000)}s)…`);
        const open = options.openBrowser;
        if (open) {
          // A browser that fails to start is fine: the URL was printed.
          Promise.resolve()
            .then(() => open(url))
            .catch(() => undefined);
        }
        code = await bounded(server.code, options.timeoutMs, options.signal);
      } finally {
        await server.close();
      }
    }
  }
  options.notify("Signed in; fetching tokens…");
  return exchangeCode(
    { code, verifier: pkce.verifier, redirectUri },
    {
      authUrl: options.authUrl,
      fetch: options.fetch,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
}
