import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import type { LogLine } from "../engine/trace.ts";
import { terminate } from "../process/liveness.ts";

export interface ManagerOptions {
  binary: string;
  kubeconfigPath: string;
  /** Extra manager flags, e.g. --phase-delay=1s. */
  args: string[];
  workDir: string;
  /** Where the manager's output is also written, whole. */
  logFile: string;
  /** Milliseconds on the grade clock, for stamping log lines. */
  clock: () => number;
  /** The manager's whole environment: nothing of ours leaks into it unless listed here. */
  env: Record<string, string>;
  /** Time between SIGTERM and SIGKILL. */
  stopGraceMs?: number;
}

export type ManagerExit = { code: number | null; signal: NodeJS.Signals | null; at: number };

export interface RunningManager {
  pid: number;
  logs: LogLine[];
  onLog(listener: (line: LogLine) => void): void;
  /** Settles when the process exits, for whatever reason. */
  exited: Promise<ManagerExit>;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process group is gone. */
  stop(): Promise<ManagerExit>;
}

/**
 * Flags that keep many managers on one host from fighting over ports: a kubebuilder scaffold
 * binds :8081 for health probes and may bind a metrics port; "0" disables both listeners.
 */
export const ISOLATION_FLAGS = ["--health-probe-bind-address=0", "--metrics-bind-address=0", "--leader-elect=false"];

export function startManager(options: ManagerOptions): RunningManager {
  const child = spawn(options.binary, [...ISOLATION_FLAGS, ...options.args, `--kubeconfig=${options.kubeconfigPath}`], {
    cwd: options.workDir,
    env: { ...options.env, KUBECONFIG: options.kubeconfigPath },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let spawnError: Error | undefined;
  child.on("error", (e) => (spawnError = e));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.binary}`, { cause: spawnError });
  const file = createWriteStream(options.logFile);
  const logs: LogLine[] = [];
  const listeners: ((line: LogLine) => void)[] = [];
  for (const stream of ["stdout", "stderr"] as const) {
    createInterface({ input: child[stream] }).on("line", (text) => {
      const line: LogLine = { at: options.clock(), stream, text };
      logs.push(line);
      file.write(`${text}\n`);
      for (const l of listeners) l(line);
    });
  }
  const exited = new Promise<ManagerExit>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal, at: options.clock() }));
  });
  exited.then(() => file.end()).catch(() => undefined);
  let stopping: Promise<ManagerExit> | undefined;
  return {
    pid,
    logs,
    onLog: (listener) => listeners.push(listener),
    exited,
    stop() {
      stopping ??= (async () => {
        // The whole process group: a manager may have started helpers of its own.
        await terminate([-pid], options.stopGraceMs ?? 10_000).catch(() => undefined);
        return exited;
      })();
      return stopping;
    },
  };
}
