import { join } from "node:path";
import type { KubeObject, LogLine } from "../engine/trace.ts";
import { messageChain } from "../errors.ts";
import type { KubeClient } from "../kube/client.ts";
import { watchResource } from "../kube/watch.ts";
import { exitCodeOf, podSelectorOf, type ContainerStatus } from "./manager-pod.ts";
import { startManager, type HostManager, type ManagerExit, type RunningManager } from "./manager.ts";
import { createSandbox, type Sandbox, type SandboxSettings } from "./sandbox.ts";

/**
 * A Deployment's managers on a cluster without kubelets (kwok): kwok marks each of its pods
 * running, and this bridge runs, for each such pod, one host process of the manager as that pod's
 * container would run: the Deployment's own arguments (leader election included), the pod's name
 * as hostname (a Lease's holder names it), the pod's namespace where a pod finds it, and the
 * ServiceAccount's kubeconfig. Deleting a pod stops its process (SIGTERM, then SIGKILL after the
 * pod's grace period), as the kubelet does; a process that exits while its pod stays is started
 * again after a back-off, up to a few times, as the kubelet restarts a container.
 */
export interface PodBridgeOptions {
  admin: KubeClient;
  /** The operator's namespace, where the Deployment runs. */
  namespace: string;
  /** The manager's Deployment as applied. */
  deployment: KubeObject;
  /** Its container that runs the manager. */
  container: string;
  binary: string;
  /** A kubeconfig that authenticates as the Deployment's ServiceAccount. */
  kubeconfigPath: string;
  workDir: string;
  clock: () => number;
  env: Record<string, string>;
  /** The grader's own manager flags, after the Deployment's. */
  managerArgs: string[];
  /** The sandbox every pod's process runs in (one each): needed for a pod's hostname and namespace file. */
  sandbox: SandboxSettings;
  /** The API server's URL, the only address a sandbox may reach. */
  apiServer: string;
  /** What a learner should read about a pod's process (a restart, a limit it hit). */
  finding: (text: string) => void;
  /** Restarts of one pod's process before the manager counts as crashed (default 3). */
  maxRestarts?: number;
}

export interface PodBridge extends RunningManager {
  /** The pods whose process runs now. */
  running(): string[];
  /**
   * What went wrong on our side, as a cluster's fault: the bridge stands in for the kubelet, and a
   * pod whose manager it could not start (its sandbox failed) says nothing about the operator.
   */
  problems(): string[];
}

type Pod = KubeObject & {
  metadata: { deletionTimestamp?: string };
  spec?: { terminationGracePeriodSeconds?: number };
  status?: { phase?: string };
};
type Container = { name?: string; args?: unknown };

/** Flags that bind a port: every process has a network namespace of its own, but on the host none may listen. */
const BIND_FLAGS = ["--health-probe-bind-address", "--metrics-bind-address"];

/** The manager container's arguments without its listeners (the grader turns them off, see ISOLATION_FLAGS). */
export function podManagerArgs(deployment: KubeObject, container: string): string[] {
  const pod = (deployment as { spec?: { template?: { spec?: { containers?: Container[] } } } }).spec?.template?.spec;
  const args = pod?.containers?.find((c) => c.name === container)?.args;
  const list = Array.isArray(args) ? args.filter((a): a is string => typeof a === "string") : [];
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const arg = list[i]!;
    const flag = BIND_FLAGS.find(
      (f) => arg === f || arg.startsWith(`${f}=`) || arg === `-${f.slice(2)}` || arg.startsWith(`-${f.slice(2)}=`),
    );
    if (!flag) out.push(arg);
    else if (!arg.includes("=")) i++; // its value is the next argument
  }
  return out;
}

const RESTART_BACKOFF_MS = [1_000, 2_000, 4_000, 8_000];
const DEFAULT_GRACE_S = 30;
const MAX_GRACE_S = 30;

interface Member {
  pod: string;
  sandbox?: Sandbox;
  process?: HostManager;
  restarts: number;
  /** The pod's terminationGracePeriodSeconds (capped): SIGKILL follows SIGTERM after it. */
  graceS: number;
  /** Set once its pod is going: an exit is then the pod's end, not a crash. */
  stopping?: Promise<void>;
  timer?: NodeJS.Timeout;
  /** The running process said it lost its leader election (its Lease was not renewed in time). */
  lostLease?: boolean;
}

/** controller-runtime's error when a leader's Lease renewals fail: the manager then exits. */
const LEASE_LOST = /leader election lost/i;

/**
 * The pod's container statuses with the manager container's replaced as a kubelet shows it: how
 * often it was restarted, how it last ended, and what it does now (back-off or running).
 */
export function managerContainerStatus(
  statuses: ContainerStatus[],
  container: string,
  now: string,
  change: { restartCount: number; exit?: ManagerExit; backOffS?: number },
): ContainerStatus[] {
  const before = statuses.find((c) => c.name === container) ?? { name: container };
  // Fields the bridge does not own (image, imageID, …) stay as kwok wrote them.
  const after: ContainerStatus & Record<string, unknown> = { ...before, restartCount: change.restartCount };
  if (change.exit) {
    after.lastState = { terminated: { exitCode: exitCodeOf(change.exit), reason: "Error", finishedAt: now } };
    after.state = {
      waiting: {
        reason: "CrashLoopBackOff",
        message: `back-off ${change.backOffS ?? 0}s restarting failed container=${container}`,
      },
    };
    after.ready = false;
    after.started = false;
  } else {
    after.state = { running: { startedAt: now } };
    after.ready = true;
    after.started = true;
  }
  return [...statuses.filter((c) => c.name !== container), after];
}

export function bridgePods(options: PodBridgeOptions): PodBridge {
  const { namespace } = options;
  const logs: LogLine[] = [];
  const listeners: ((line: LogLine) => void)[] = [];
  const members = new Map<string, Member>();
  const args = podManagerArgs(options.deployment, options.container);
  const maxRestarts = options.maxRestarts ?? 3;
  let closed = false;
  let resolveExit!: (exit: ManagerExit) => void;
  const exited = new Promise<ManagerExit>((resolve) => (resolveExit = resolve));
  let crash: ManagerExit | undefined;
  const crashed = (exit: ManagerExit) => {
    if (crash) return;
    crash = exit;
    resolveExit(exit);
  };
  const problems: string[] = [];
  const note = (pod: string, text: string) => {
    const line: LogLine = { at: options.clock(), stream: "stderr", text: `[labgrader] pod ${pod}: ${text}`, pod };
    logs.push(line);
    for (const l of listeners) l(line);
  };

  /**
   * What the kubelet would show of the manager container in the pod's status: its restarts, its
   * last end and its back-off. kwok marks a pod running once and leaves its status to others, so
   * without this a manager that keeps crashing looks like one that runs.
   */
  async function writeContainerStatus(member: Member, exit?: ManagerExit, backOffS?: number): Promise<void> {
    const key = { apiVersion: "v1", kind: "Pod", namespace, name: member.pod };
    try {
      const pod = (await options.admin.get(key)) as
        (Pod & { status?: { containerStatuses?: ContainerStatus[] } }) | undefined;
      if (!pod || pod.metadata.deletionTimestamp) return;
      const containerStatuses = managerContainerStatus(
        pod.status?.containerStatuses ?? [],
        options.container,
        new Date().toISOString(),
        { restartCount: member.restarts, exit, backOffS },
      );
      await options.admin.patch(key, { status: { containerStatuses } }, { subresource: "status" });
    } catch (e) {
      if (closed || member.stopping) return;
      const why = e instanceof Error ? messageChain(e) : String(e);
      problems.push(`its kubelet stand-in could not write the status of pod ${member.pod} (${why})`);
    }
  }

  async function launch(member: Member): Promise<void> {
    const sandbox = await createSandbox({
      settings: options.sandbox,
      binary: options.binary,
      kubeconfigPath: options.kubeconfigPath,
      apiServer: options.apiServer,
      pod: { name: member.pod, namespace },
    });
    member.sandbox = sandbox;
    if (closed || member.stopping) {
      await sandbox.dispose();
      return;
    }
    const proc = startManager({
      binary: sandbox.binary,
      kubeconfigPath: sandbox.kubeconfigPath,
      args: [...args, ...options.managerArgs],
      workDir: options.workDir,
      logFile: join(options.workDir, `manager-${member.pod}-${member.restarts}.log`),
      clock: options.clock,
      env: options.env,
      sandbox: sandbox.manager,
      stopGraceMs: member.graceS * 1000,
    });
    member.process = proc;
    member.lostLease = false;
    if (member.restarts > 0) void writeContainerStatus(member);
    proc.onLog((line) => {
      if (LEASE_LOST.test(line.text)) member.lostLease = true;
      const tagged = { ...line, pod: member.pod };
      logs.push(tagged);
      for (const l of listeners) l(tagged);
    });
    void proc.exited.then(async (exit) => {
      if (closed || member.stopping) return;
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
      for (const f of await sandbox.diagnose().catch(() => [])) options.finding(`Pod ${member.pod}: ${f}`);
      await sandbox.dispose().catch(() => undefined);
      member.sandbox = undefined;
      if (member.lostLease)
        // Renewals not answered in time are this host's doing as often as the operator's: the
        // grade cannot tell, so it is graded again rather than charged to the learner.
        problems.push(
          `the manager of pod ${member.pod} lost its leader election and exited (its Lease's renewals were not answered in time)`,
        );
      if (member.restarts >= maxRestarts) {
        note(member.pod, `the manager ${how}; it was started ${member.restarts + 1} times`);
        crashed({ ...exit, reason: `in pod ${member.pod} ${how}, after ${member.restarts} restarts` });
        return;
      }
      const wait = RESTART_BACKOFF_MS[Math.min(member.restarts, RESTART_BACKOFF_MS.length - 1)]!;
      note(
        member.pod,
        `the manager ${how}; it is started again in ${wait / 1000} s, as the kubelet restarts a container`,
      );
      options.finding(
        `The manager in pod ${member.pod} ${how} at ${(exit.at / 1000).toFixed(1)} s and was started again.`,
      );
      member.restarts++;
      await writeContainerStatus(member, exit, wait / 1000);
      if (closed || member.stopping) return;
      member.timer = setTimeout(() => void start(member), wait);
    });
  }

  async function start(member: Member): Promise<void> {
    await launch(member).catch((e: unknown) => {
      const why = e instanceof Error ? messageChain(e) : String(e);
      note(member.pod, `its manager could not be started: ${why}`);
      problems.push(`its kubelet stand-in could not start the manager of pod ${member.pod} (${why})`);
    });
  }

  /** The pod is going: its process gets SIGTERM, then SIGKILL after the grace period. */
  function stopMember(member: Member): Promise<void> {
    member.stopping ??= (async () => {
      clearTimeout(member.timer);
      const proc = member.process;
      if (proc) {
        const exit = await proc.stop();
        note(
          member.pod,
          `its pod was deleted; the manager ${exit.signal ? `ended by ${exit.signal}` : `exited with code ${String(exit.code)}`}`,
        );
      }
      const sandbox = member.sandbox;
      if (sandbox) {
        for (const f of await sandbox.diagnose().catch(() => [])) options.finding(`Pod ${member.pod}: ${f}`);
        await sandbox.dispose().catch(() => undefined);
      }
      members.delete(member.pod);
    })();
    return member.stopping;
  }

  const selector = podSelectorOf(options.deployment);
  const pods = watchResource(
    options.admin,
    { apiVersion: "v1", kind: "Pod", namespace, labelSelector: selector },
    {
      emitInitial: true,
      onEvent: (type, object) => {
        if (closed) return;
        const pod = object as Pod;
        const name = pod.metadata.name;
        const member = members.get(name);
        if (type === "DELETED" || pod.metadata.deletionTimestamp) {
          if (member) void stopMember(member);
          return;
        }
        if (!member && pod.status?.phase === "Running") {
          const graceS = Math.min(pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_S, MAX_GRACE_S);
          const added: Member = { pod: name, restarts: 0, graceS };
          members.set(name, added);
          void start(added);
        }
      },
      onError: (e) =>
        crashed({ code: null, signal: null, at: options.clock(), reason: `lost sight of its pods: ${e.message}` }),
    },
  );

  let stopping: Promise<ManagerExit> | undefined;
  return {
    logs,
    onLog: (listener) => void listeners.push(listener),
    exited,
    problems: () => [...problems],
    running: () => [...members.values()].filter((m) => m.process && !m.stopping).map((m) => m.pod),
    stop() {
      stopping ??= (async () => {
        closed = true;
        pods.stop();
        await Promise.all([...members.values()].map((m) => stopMember(m)));
        return (
          crash ?? {
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
