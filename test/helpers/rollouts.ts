/** Fake Codex rollout files: shared with the bench, which owns them (src/bench/rollouts.ts). */
export * from "../../src/bench/rollouts.js";
