// Starts the real stratus binary on a free port with its own data dir (like daemon.py).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const bin = process.env.STRATUS_BIN || join(root, "build", "emulator", "stratus");

export async function startDaemon(...args) {
  const dataDir = mkdtempSync(join(tmpdir(), "stratus-js-"));
  // The API Gateway port too is a free one (never the default 3000: tests run side by side).
  const apiPort = args.includes("--api-port") ? [] : ["--api-port", "0"];
  const proc = spawn(bin, ["start", "--port", "0", "--data-dir", dataDir, "--log-level", "warn", ...apiPort, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: proc.stdout });
  const port = await new Promise((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`stratus exited with ${code}`)));
    lines.on("line", (line) => {
      const m = /listening on http:\/\/[^ ]+:(\d+)/.exec(line);
      if (m) resolve(Number(m[1]));
    });
  });
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
