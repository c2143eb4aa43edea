import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
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
  /** How much of its output is kept (default MAX_LOG_BYTES). */
  maxLogBytes?: number;
  /** Runs the manager confined (see sandbox.ts) instead of as ourselves. */
  sandbox?: ManagerSandbox;
}

/** How a sandbox wraps the manager's process; sandbox.ts implements it. */
export interface ManagerSandbox {
  wrap(command: string, args: string[], env: Record<string, string>): { command: string; args: string[]; cwd: string; env: Record<string, string> };
  /** The manager runs: its time limit starts. */
  started(pid: number): void;
  /** Kills whatever the manager left in the sandbox, also what escaped its process group. */
  killAll(): Promise<void>;
}

/** What is kept of a manager's output, in all; a longer line is cut. */
export const MAX_LOG_BYTES = 16 * 1024 * 1024;
const MAX_LINE_CHARS = 64 * 1024;

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
  const direct = {
    command: options.binary,
    args: [...ISOLATION_FLAGS, ...options.args, `--kubeconfig=${options.kubeconfigPath}`],
    cwd: options.workDir,
    env: { ...options.env, KUBECONFIG: options.kubeconfigPath },
  };
  const launch = options.sandbox ? options.sandbox.wrap(direct.command, direct.args, direct.env) : direct;
  const child = spawn(launch.command, launch.args, { cwd: launch.cwd, env: launch.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let spawnError: Error | undefined;
  child.on("error", (e) => (spawnError = e));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.binary}`, { cause: spawnError });
  options.sandbox?.started(pid);
  const file = createWriteStream(options.logFile);
  const logs: LogLine[] = [];
  const listeners: ((line: LogLine) => void)[] = [];
  // A manager's output is the learner's to choose: what is kept (in memory, on disk) is bounded,
  // and the rest is read and dropped so the manager never blocks on a full pipe.
  let budget = options.maxLogBytes ?? MAX_LOG_BYTES;
  const emit = (stream: LogLine["stream"], text: string) => {
    if (budget <= 0) return;
    budget -= text.length + 1;
    const line: LogLine = { at: options.clock(), stream, text: budget > 0 ? text : `${text}\n[labgrader: the operator's log passed ${options.maxLogBytes ?? MAX_LOG_BYTES} bytes; the rest was not kept]` };
    logs.push(line);
    file.write(`${line.text}\n`);
    for (const l of listeners) l(line);
  };
  for (const stream of ["stdout", "stderr"] as const) {
    let partial = "";
    child[stream].setEncoding("utf8");
    child[stream].on("data", (chunk: string) => {
      if (budget <= 0) return;
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      if (partial.length > MAX_LINE_CHARS) {
        parts.push(partial.slice(0, MAX_LINE_CHARS));
        partial = "";
      }
      for (const text of parts) emit(stream, text.length > MAX_LINE_CHARS ? text.slice(0, MAX_LINE_CHARS) : text);
    });
    child[stream].on("end", () => {
      if (partial) emit(stream, partial);
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
        await options.sandbox?.killAll();
        return exited;
      })();
      return stopping;
    },
  };
}
