/** How often a grade asks whether its cluster is still whole. */
export const CLUSTER_WATCH_INTERVAL_MS = 2_000;

export interface ClusterWatch {
  /** Settles with a reason once the cluster itself broke: waiting longer cannot tell anything about the operator. */
  broken: Promise<string>;
  /** One more look (the last poll may be up to an interval old); the reason if the cluster broke, else undefined. */
  check(): Promise<string | undefined>;
  stop(): void;
}

/**
 * Watches the cluster a grade runs in for faults of its own (a control-plane component that
 * exited). A check judged on a broken cluster proves nothing about the operator, so a broken
 * cluster ends the grade as not gradable instead of charging the learner.
 */
export function watchCluster(problems: () => Promise<string[]>, intervalMs = CLUSTER_WATCH_INTERVAL_MS): ClusterWatch {
  let reason: string | undefined;
  let settle: (reason: string) => void = () => undefined;
  const broken = new Promise<string>((resolve) => (settle = resolve));
  const look = async (): Promise<string | undefined> => {
    if (reason) return reason;
    const found = await problems().catch(() => [] as string[]);
    if (found.length === 0) return undefined;
    reason = `the cluster broke during the grade: ${found.join(", ")}`;
    settle(reason);
    return reason;
  };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (stopped || reason) return;
    timer = setTimeout(() => void look().finally(schedule), intervalMs);
    timer.unref();
  };
  schedule();
  return {
    broken,
    check: look,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Judged on a broken cluster, a failure is no one's: it becomes not gradable. Passes stand. */
export function unjudged<T extends { status: string; message: string }>(result: T, reason: string): T {
  if (result.status !== "failed") return result;
  return { ...result, status: "error", message: `Not gradable: ${reason}.` };
}
