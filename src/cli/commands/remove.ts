import { CodexPoolError } from "../../platform/errors.js";
import type { CommandContext } from "../context.js";

// PLACEHOLDER: replaced by the issue that builds this command.
// eslint-disable-next-line @typescript-eslint/require-await
export async function remove(_ctx: CommandContext, ..._args: unknown[]): Promise<number> {
  throw new CodexPoolError("this command is not built yet");
}
