/**
 * The live controller: what the supervisor's live switching port calls (decision 11,
 * docs/codex-app-server.md §7). It owns the relay in front of one app-server and acts inside the
 * client's own connection:
 * - every client that attaches is logged in with the current account before it sees the server;
 * - `login` hands the app-server another account, only while no turn runs (a login during a turn
 *   can abort it, §3), with the client's frames held until the login is answered, so a turn the
 *   user starts at that moment waits instead of racing it;
 * - `startTurn` submits a continuation and resolves when `turn/started` confirms it;
 * - refresh requests are answered through the callback (single-flight: codex asks every
 *   connection at once, §8);
 * - turns, the usage-limit error, rate limits, the session's thread and deaths arrive as typed
 *   events;
 * - `notifyUser` puts a line in the TUI's own warnings (its status area: `⚠ N warnings · f2 to
 *   view`, docs/codex-app-server.md §8), the one place a line can appear without breaking its
 *   screen.
 *
 * A client whose first login is refused never sees the app-server: its connection is closed
 * before its initialize answer, so it cannot run a turn on no account (or on one we did not give).
 */
import { errorMessage } from "../platform/errors.js";
import {
  RELAY_TOKEN_ENV,
  type LiveControllerApi,
  type LiveControllerOptions,
} from "./controller-api.js";
import { AppServerError, NotAttachedError, TurnRunningError } from "./errors.js";
import { eventOf, type LiveEvent, type LiveEventListener } from "./events.js";
import type { Frame } from "./jsonrpc.js";
import {
  LOGIN_METHOD,
  LoginResultSchema,
  parseNotification,
  REFRESH_METHOD,
  loginParams,
  TURN_START_METHOD,
  TurnStartResultSchema,
  turnStartParams,
  WARNING_METHOD,
  type SuppliedAccount,
} from "./messages.js";
import { RefreshAnswers } from "./refresh-answer.js";
import { startRelay, type Relay } from "./relay.js";
import type { Party, RelayConnection, ServerRequestHandler } from "./relay-connection.js";
import { TurnStarts } from "./turn-starts.js";
import { TurnTracker } from "./turns.js";

// The rest of the controller's interface, so its users import it from one module.
export {
  RELAY_TOKEN_ENV,
  type LiveControllerApi,
  type LiveControllerOptions,
  type RefreshCallback,
} from "./controller-api.js";

interface Attached {
  readonly conn: RelayConnection;
  readonly turns: TurnTracker;
  /** The session thread last reported for this connection (`sessionThread` events). */
  reported: string | null;
}

export class LiveController implements LiveControllerApi {
  private readonly listeners = new Set<LiveEventListener>();
  private readonly attached = new Map<RelayConnection, Attached>();
  private readonly starts = new TurnStarts();
  private readonly idleWaiters = new Set<() => void>();
  private desired: SuppliedAccount;
  private applied: SuppliedAccount | null = null;
  private readonly refreshes: RefreshAnswers;
  private relay!: Relay;

  private constructor(options: LiveControllerOptions) {
    this.desired = options.account;
    this.refreshes = new RefreshAnswers(
      options.refresh,
      (account) => {
        this.applied = account;
        this.desired = account;
      },
      (event) => this.emit(event),
    );
  }

  static async start(options: LiveControllerOptions): Promise<LiveController> {
    const controller = new LiveController(options);
    const serverRequests = new Map<string, ServerRequestHandler>([
      [REFRESH_METHOD, (params) => controller.refreshes.answer(params)],
    ]);
    controller.relay = await startRelay({
      upstream: { url: options.appServer.url, token: options.appServer.token },
      onListenerError: (error) =>
        controller.emit({ type: "failure", message: `relay: ${error.message}` }),
      hooks: {
        serverRequests,
        onInitialized: (conn) => controller.onInitialized(conn),
        onClientFrame: (frame, conn, from) => controller.onClientFrame(frame, conn, from),
        onServerFrame: (frame, conn, to) => controller.onServerFrame(frame, conn, to),
        onClose: (conn, info) => {
          controller.attached.delete(conn);
          if (conn.attached) {
            controller.emit({ type: "detached", client: conn.clientName, ...info });
          } else if (info.by === "app-server") {
            // A client that never got through: the TUI retries while the server is gone (§8).
            controller.emit({
              type: "failure",
              message: `a client could not reach the app-server (close code ${info.code})`,
            });
          }
          controller.wakeIdle();
        },
        onError: (_conn, error) => controller.emit({ type: "failure", message: error.message }),
      },
    });
    void options.appServer.exited.then(
      (outcome) => controller.emit({ type: "appServerExited", outcome }),
      (error: unknown) => controller.emit({ type: "failure", message: errorMessage(error) }),
    );
    return controller;
  }

  attachArgs(): string[] {
    return ["--remote", this.relay.url, "--remote-auth-token-env", RELAY_TOKEN_ENV];
  }

  attachEnv(): Record<string, string> {
    return { [RELAY_TOKEN_ENV]: this.relay.token };
  }

  on(listener: LiveEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  turnRunning(): boolean {
    for (const a of this.attached.values()) if (a.turns.busy()) return true;
    return false;
  }

  idle(): Promise<void> {
    if (!this.turnRunning()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  sessionThreadId(): string | null {
    return this.active()?.turns.sessionThreadId() ?? null;
  }

  notifyUser(message: string): boolean {
    const target = this.active();
    if (target === null) return false;
    target.conn.notifyClient(WARNING_METHOD, { threadId: null, message });
    return true;
  }

  currentAccountId(): string | null {
    return this.applied?.chatgptAccountId ?? null;
  }

  async login(account: SuppliedAccount): Promise<"applied" | "deferred"> {
    const target = this.active();
    if (target === null) {
      this.desired = account;
      return "deferred";
    }
    if (this.turnRunning()) {
      throw new TurnRunningError("a turn is running; the account can change only between turns");
    }
    // From here until the answer, nothing the client sends reaches the app-server.
    await target.conn.holdClient(() => this.sendLogin(target.conn, account));
    this.desired = account;
    this.emit({ type: "accountApplied", chatgptAccountId: account.chatgptAccountId, via: "login" });
    return "applied";
  }

  async startTurn(text: string, threadId?: string): Promise<{ threadId: string; turnId: string }> {
    const target = this.active();
    if (target === null) throw new NotAttachedError("no codex client is attached to the relay");
    if (this.turnRunning()) throw new TurnRunningError("a turn is running; not starting another");
    const thread = threadId ?? target.turns.sessionThreadId();
    if (thread === null)
      throw new NotAttachedError("the attached client has no session thread yet");
    const result = await target.conn.request(TURN_START_METHOD, turnStartParams(thread, text));
    const parsed = TurnStartResultSchema.safeParse(result);
    if (!parsed.success) throw new AppServerError("turn/start answered without a turn id");
    const turnId = parsed.data.turn.id;
    await this.starts.confirmed(turnId, target.conn.closed);
    return { threadId: thread, turnId };
  }

  async close(): Promise<void> {
    await this.relay.close();
  }

  /** The newest attached client that has been answered (the one we act through). */
  private active(): Attached | null {
    let found: Attached | null = null;
    for (const a of this.attached.values()) if (a.conn.ready) found = a;
    return found;
  }

  private async sendLogin(conn: RelayConnection, account: SuppliedAccount): Promise<void> {
    const result = await conn.request(LOGIN_METHOD, loginParams(account));
    if (!LoginResultSchema.safeParse(result).success) {
      throw new AppServerError("the app-server answered the login with something unexpected");
    }
    this.applied = account;
  }

  private entry(conn: RelayConnection): Attached {
    let found = this.attached.get(conn);
    if (found === undefined && !conn.isClosed) {
      found = { conn, turns: new TurnTracker(), reported: null };
      this.attached.set(conn, found);
    }
    return found ?? { conn, turns: new TurnTracker(), reported: null };
  }

  private async onInitialized(conn: RelayConnection): Promise<void> {
    this.entry(conn);
    const account = this.desired;
    if (this.applied?.accessToken !== account.accessToken) {
      try {
        await this.sendLogin(conn, account);
        this.emit({
          type: "accountApplied",
          chatgptAccountId: account.chatgptAccountId,
          via: "attach",
        });
      } catch (error) {
        this.emit({
          type: "loginFailed",
          chatgptAccountId: account.chatgptAccountId,
          message: errorMessage(error),
        });
        // Its initialize answer is never sent: the client cannot work on an app-server without
        // the account we meant it to have.
        this.attached.delete(conn);
        conn.close(1011);
        return;
      }
    }
    this.emit({ type: "attached", client: conn.clientName });
  }

  private onClientFrame(frame: Frame, conn: RelayConnection, _from: Party): void {
    if (frame.kind === "request") this.entry(conn).turns.request(frame.id, frame.method);
  }

  private onServerFrame(frame: Frame, conn: RelayConnection, _to: Party): void {
    const a = this.entry(conn);
    if (frame.kind === "result") a.turns.response(frame.id, frame.result);
    else if (frame.kind === "error" && frame.id !== null) a.turns.response(frame.id, undefined);
    else if (frame.kind === "notification") this.onNotification(frame.method, frame.params, a);
    const thread = a.turns.sessionThreadId();
    if (thread !== null && thread !== a.reported && this.attached.has(conn)) {
      a.reported = thread;
      this.emit({ type: "sessionThread", threadId: thread, client: conn.clientName });
    }
    this.wakeIdle();
  }

  private onNotification(method: string, params: unknown, a: Attached): void {
    const parsed = parseNotification(method, params);
    if (parsed.type === "malformed") {
      this.emit({ type: "malformed", method: parsed.method, detail: parsed.detail });
      return;
    }
    if (parsed.type !== "known") return;
    a.turns.notification(parsed.notification);
    const n = parsed.notification;
    if (n.method === "turn/started") this.starts.confirm(n.params.turn.id);
    const event = eventOf(n, (thread) => a.turns.isEphemeral(thread));
    if (event !== null) this.emit(event);
  }

  private wakeIdle(): void {
    if (this.idleWaiters.size === 0 || this.turnRunning()) return;
    const waiters = [...this.idleWaiters];
    this.idleWaiters.clear();
    for (const wake of waiters) wake();
  }

  private emit(event: LiveEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        // A listener's bug must not unwind through the relay mid-frame: it surfaces on its own,
        // as an uncaught exception, like an EventEmitter listener's would.
        setImmediate(() => {
          throw error;
        });
      }
    }
  }
}
