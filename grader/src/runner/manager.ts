import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { LogLine } from "../engine/trace.ts";
import { terminate } from "../process/liveness.ts";
import { createLogCapture } from "./log-capture.ts";

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
  /** How much of its output is kept (default log-capture.ts's MAX_LOG_BYTES). */
  maxLogBytes?: number;
  /** Runs the manager confined (see sandbox.ts) instead of as ourselves. */
  sandbox?: ManagerSandbox;
}

/** How a sandbox wraps the manager's process; sandbox.ts implements it. */
export interface ManagerSandbox {
  wrap(
    command: string,
    args: string[],
    env: Record<string, string>,
  ): { command: string; args: string[]; cwd: string; env: Record<string, string> };
  /** The manager runs: its time limit starts. */
  started(pid: number): void;
  /** Kills whatever the manager left in the sandbox, also what escaped its process group. */
  killAll(): Promise<void>;
}

/** How a manager ended; `reason` says why when it is not an exit at all (it never started). */
export type ManagerExit = { code: number | null; signal: NodeJS.Signals | null; at: number; reason?: string };

/** A manager under test, wherever it runs (a host process here, a pod in manager-pod.ts). */
export interface RunningManager {
  logs: LogLine[];
  onLog(listener: (line: LogLine) => void): void;
  /** Settles when the process exits, for whatever reason. */
  exited: Promise<ManagerExit>;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process group is gone. */
  stop(): Promise<ManagerExit>;
}

export interface HostManager extends RunningManager {
  pid: number;
}

/**
 * Flags that keep many managers on one host from fighting over ports: a kubebuilder scaffold
 * binds :8081 for health probes and may bind a metrics port; "0" disables both listeners.
 */
export const ISOLATION_FLAGS = ["--health-probe-bind-address=0", "--metrics-bind-address=0", "--leader-elect=false"];

/** A sandboxed manager's death by a signal arrives as exit code 128 + its number (sandbox-launch.ts). */
function signalled(code: number | null, signal: NodeJS.Signals | null): Pick<ManagerExit, "code" | "signal"> {
  if (signal || code === null || code <= 128) return { code, signal };
  const name = (Object.entries(constants.signals) as [NodeJS.Signals, number][]).find(([, n]) => n === code - 128)?.[0];
  return name ? { code: null, signal: name } : { code, signal };
}

export function startManager(options: ManagerOptions): HostManager {
  const direct = {
    command: options.binary,
    args: [...ISOLATION_FLAGS, ...options.args, `--kubeconfig=${options.kubeconfigPath}`],
    cwd: options.workDir,
    env: { ...options.env, KUBECONFIG: options.kubeconfigPath },
  };
  const launch = options.sandbox ? options.sandbox.wrap(direct.command, direct.args, direct.env) : direct;
  const child = spawn(launch.command, launch.args, {
    cwd: launch.cwd,
    env: launch.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let spawnError: Error | undefined;
  child.on("error", (e) => (spawnError = e));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.binary}`, { cause: spawnError });
  options.sandbox?.started(pid);
  const capture = createLogCapture({
    clock: options.clock,
    logFile: options.logFile,
    maxLogBytes: options.maxLogBytes,
  });
  for (const stream of ["stdout", "stderr"] as const) {
    child[stream].setEncoding("utf8");
    child[stream].on("data", (chunk: string) => capture.feed(stream, chunk));
    child[stream].on("end", () => capture.end(stream));
  }
  const exited = new Promise<ManagerExit>((resolve) => {
    child.on("exit", (code, signal) =>
      resolve({ ...(options.sandbox ? signalled(code, signal) : { code, signal }), at: options.clock() }),
    );
  });
  exited.then(() => capture.close()).catch(() => undefined);
  let stopping: Promise<ManagerExit> | undefined;
  return {
    pid,
    logs: capture.logs,
    onLog: capture.onLog,
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
