/**
 * A second codex-pool process for the store bench (like test/fixtures/pool-worker.mjs): it loads
 * the built store, says "ready", waits for "go" on stdin so every worker starts together, then runs
 * `n` read-modify-write transactions, each adding 1 to the counter account's label, and says "done".
 * Usage: node store-worker.js <poolHome> <counterAccountId> <n>
 */
import { poolPaths } from "../platform/paths.js";
import { FilePoolStore } from "../pool/file-store.js";

const [poolHome, counterId, count] = process.argv.slice(2);
if (poolHome === undefined || counterId === undefined || count === undefined) {
  throw new Error("usage: store-worker.js <poolHome> <counterAccountId> <n>");
}
const store = new FilePoolStore({
  paths: poolPaths(poolHome),
  lockWaitMs: 120_000,
  lockStaleMs: 30_000,
});
process.stdout.write("ready\n");
await new Promise<void>((resolve) => {
  process.stdin.setEncoding("utf8").on("data", (d: string) => {
    if (d.includes("go")) resolve();
  });
});
for (let i = 0; i < Number(count); i += 1) {
  await store.transact((pool) => {
    const account = pool.accounts.find((a) => a.id === counterId);
    if (!account) throw new Error("the counter account is gone");
    account.label = String(Number(account.label ?? "0") + 1);
  });
}
process.stdout.write("done\n");
process.stdin.destroy();
