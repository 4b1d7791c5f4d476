const m = process.memoryUsage();
await import("/work/wt/perf/dist/supervisor/index.js");
await import("/work/wt/perf/dist/supervisor/live.js");
await import("/work/wt/perf/dist/cli/program.js");
await import("/work/wt/perf/dist/cli/commands/run.js");
await import("/work/wt/perf/dist/cli/context.js");
setTimeout(() => {}, 100000);
