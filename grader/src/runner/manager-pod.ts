import { constants } from "node:os";
import type { KubeObject } from "../engine/trace.ts";
import type { KubeClient } from "../kube/client.ts";
import { watchResource } from "../kube/watch.ts";
import { createLogCapture } from "./log-capture.ts";
import type { ManagerExit, RunningManager } from "./manager.ts";

export interface PodManagerOptions {
  admin: KubeClient;
  namespace: string;
  /** The manager's Deployment as applied. */
  deployment: KubeObject;
  /** Its container that runs the manager. */
  container: string;
  logFile: string;
  clock: () => number;
  maxLogBytes?: number;
  /** How long stop() waits for the pods to go after deleting the Deployment. */
  stopTimeoutMs?: number;
}

type ContainerState = {
  running?: object;
  terminated?: { exitCode?: number; signal?: number; reason?: string; message?: string; finishedAt?: string };
  waiting?: { reason?: string; message?: string };
};
export type ContainerStatus = {
  name: string;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
};
type Pod = KubeObject & { status?: { containerStatuses?: ContainerStatus[] } };
type Condition = { type: string; status: string; reason?: string; message?: string };

const SIGNALS: Record<number, NodeJS.Signals> = { 9: "SIGKILL", 15: "SIGTERM", 6: "SIGABRT", 11: "SIGSEGV" };

/** A terminated container's exit, as a process's: exit codes above 128 are deaths by signal (137 = SIGKILL). */
export function exitOf(terminated: NonNullable<ContainerState["terminated"]>, at: number): ManagerExit {
  const code = terminated.exitCode ?? null;
  const signal = terminated.signal
    ? SIGNALS[terminated.signal]
    : code !== null && code > 128
      ? SIGNALS[code - 128]
      : undefined;
  return signal ? { code: null, signal, at } : { code, signal: null, at };
}

/** The exit code a container ends with for a process's exit (the inverse of exitOf): 128 + the signal's number for a death by signal. */
export function exitCodeOf(exit: Pick<ManagerExit, "code" | "signal">): number {
  if (exit.code !== null) return exit.code;
  return exit.signal ? 128 + constants.signals[exit.signal] : 1;
}

/** The first termination of the manager container, if this version of the pod shows one. */
export function firstTermination(pod: Pod, container: string): NonNullable<ContainerState["terminated"]> | undefined {
  const status = pod.status?.containerStatuses?.find((c) => c.name === container);
  if (!status) return undefined;
  return (status.restartCount ?? 0) > 0 ? status.lastState?.terminated : status.state?.terminated;
}

/** Why the Deployment has no pod at all (Pod Security refused it, a quota, …), from its ReplicaFailure condition. */
export function replicaFailure(deployment: KubeObject): string | undefined {
  const conditions = (deployment as { status?: { conditions?: Condition[] } }).status?.conditions ?? [];
  const failure = conditions.find((c) => c.type === "ReplicaFailure" && c.status === "True");
  return failure ? (failure.message ?? failure.reason ?? "its ReplicaSet could not create a pod") : undefined;
}

/** A Deployment's pods, as a label selector (its matchLabels). */
export function podSelectorOf(deployment: KubeObject): string {
  const matchLabels = (deployment as { spec?: { selector?: { matchLabels?: Record<string, string> } } }).spec?.selector
    ?.matchLabels;
  return Object.entries(matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/**
 * The manager deployed in the cluster, seen as a process: its log is the first pod's manager
 * container's, followed from the API server; it "exits" when that container first terminates (a
 * crash loop is a crash) or when no pod can be made for it; stop() deletes the Deployment, which
 * sends SIGTERM and, after the pod's grace period, SIGKILL.
 */
export function watchManagerPod(options: PodManagerOptions): RunningManager {
  const { admin, namespace, container } = options;
  const capture = createLogCapture({
    clock: options.clock,
    logFile: options.logFile,
    maxLogBytes: options.maxLogBytes,
  });
  const selector = podSelectorOf(options.deployment);
  let resolveExit!: (exit: ManagerExit) => void;
  const exited = new Promise<ManagerExit>((resolve) => (resolveExit = resolve));
  let exit: ManagerExit | undefined;
  const finish = (e: ManagerExit) => {
    if (exit) return;
    exit = e;
    resolveExit(e);
  };
  const abort = new AbortController();
  let followed: string | undefined;
  const livePods = new Set<string>();
  let podsGone: (() => void) | undefined;

  const follow = async (pod: string) => {
    const path = `/api/v1/namespaces/${namespace}/pods/${pod}/log`;
    try {
      for await (const chunk of admin.stream(path, { query: { container, follow: true }, signal: abort.signal }))
        capture.feed("stdout", chunk);
    } catch {
      // The stream ends with the container, or is aborted by stop(); either way what arrived is kept.
    }
    capture.end("stdout");
  };

  const pods = watchResource(
    admin,
    { apiVersion: "v1", kind: "Pod", namespace, labelSelector: selector },
    {
      emitInitial: true,
      onEvent: (type, object) => {
        const pod = object as Pod;
        if (type === "DELETED") livePods.delete(pod.metadata.name);
        else livePods.add(pod.metadata.name);
        if (livePods.size === 0) podsGone?.();
        const status = pod.status?.containerStatuses?.find((c) => c.name === container);
        if (!followed && (status?.state?.running || status?.state?.terminated || (status?.restartCount ?? 0) > 0)) {
          followed = pod.metadata.name;
          void follow(pod.metadata.name);
        }
        if (pod.metadata.name !== followed) return;
        const terminated = firstTermination(pod, container);
        if (terminated) finish(exitOf(terminated, options.clock()));
      },
    },
  );
  const deployments = watchResource(
    admin,
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      namespace,
      fieldSelector: `metadata.name=${options.deployment.metadata.name}`,
    },
    {
      emitInitial: true,
      onEvent: (type, object) => {
        const why = type === "DELETED" ? undefined : replicaFailure(object);
        if (why && !followed)
          finish({
            code: null,
            signal: null,
            at: options.clock(),
            reason: `could not start: no pod could be made for it (${why})`,
          });
      },
    },
  );

  let stopping: Promise<ManagerExit> | undefined;
  return {
    logs: capture.logs,
    onLog: capture.onLog,
    exited,
    stop() {
      stopping ??= (async () => {
        const gone = new Promise<void>((resolve) => {
          podsGone = resolve;
          if (livePods.size === 0) resolve();
        });
        const timeoutMs = options.stopTimeoutMs ?? 60_000;
        await admin
          .delete(
            { apiVersion: "apps/v1", kind: "Deployment", namespace, name: options.deployment.metadata.name },
            { propagationPolicy: "Foreground" },
          )
          .catch(() => undefined);
        await Promise.race([gone, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
        pods.stop();
        deployments.stop();
        abort.abort();
        capture.close();
        return (
          exit ?? {
            code: null,
            signal: null,
            at: options.clock(),
            reason: "it was still running when its pods were removed",
          }
        );
      })();
      return stopping;
    },
  };
}
