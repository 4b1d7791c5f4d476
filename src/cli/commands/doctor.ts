/** `codex-pool doctor [--json]`: every finding with a one-line remedy; exit 1 when something is broken. */
import { runDoctor } from "../../doctor/run-doctor.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";

export async function doctor(ctx: CommandContext, opts: CommandInput<"doctor">): Promise<number> {
  const findings = await runDoctor(ctx);
  const broken = findings.some((f) => f.status === "fail");
  if (opts.json === true) {
    ctx.out.json({ ok: !broken, findings });
    return broken ? 1 : 0;
  }
  const mark = {
    ok: ctx.out.paint("green", "ok  "),
    warn: ctx.out.paint("yellow", "warn"),
    fail: ctx.out.paint("red", "FAIL"),
  };
  for (const f of findings) {
    ctx.out.line(`${mark[f.status]}  ${f.title}`);
    if (f.detail !== undefined && f.status !== "ok")
      ctx.out.line(`      ${ctx.out.paint("dim", f.detail)}`);
    if (f.remedy !== undefined) ctx.out.line(`      → ${f.remedy}`);
  }
  const counts = (s: string): number => findings.filter((f) => f.status === s).length;
  ctx.out.line();
  ctx.out.line(
    broken
      ? `${counts("fail")} problem(s) to fix, ${counts("warn")} warning(s).`
      : `No problems found${counts("warn") > 0 ? ` (${counts("warn")} warning(s))` : ""}.`,
  );
  return broken ? 1 : 0;
}
