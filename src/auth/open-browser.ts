/**
 * Opening a URL in the user's browser: `open` on macOS, `cmd /c start` on Windows, `xdg-open`
 * elsewhere. Best effort: the URL is always printed too, so any failure is swallowed by the caller.
 */
import type { spawn as spawnFn } from "node:child_process";

export function browserCommand(platform: NodeJS.Platform, url: string): [string, string[]] {
  if (platform === "darwin") return ["open", [url]];
  // `start` treats the first quoted argument as a window title, hence the empty "".
  if (platform === "win32") return ["cmd", ["/c", "start", '""', url.replace(/&/g, "^&")]];
  return ["xdg-open", [url]];
}

export function systemBrowserOpener(
  spawn: typeof spawnFn,
  platform: NodeJS.Platform,
): (url: string) => Promise<void> {
  return (url) =>
    new Promise((resolve, reject) => {
      const [command, args] = browserCommand(platform, url);
      const child = spawn(command, args, { stdio: "ignore", detached: true });
      child.once("error", reject);
      child.once("spawn", () => {
        child.unref();
        resolve();
      });
    });
}
