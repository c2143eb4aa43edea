import type { LogLine } from "../engine/trace.ts";
import type { RunningManager } from "../runner/manager.ts";

/** How long a manager may keep failing to list or watch a kind before the grade stops waiting for it. */
export const FORBIDDEN_GRACE_MS = 20_000;

const FORBIDDEN = /is forbidden: User "[^"]*" cannot (list|watch) resource "([^"]+)" in API group "([^"]*)"/;

/** The permission a log line says the manager was refused, if it says so. */
export function forbiddenListOrWatch(text: string): { verb: string; resource: string; group: string } | undefined {
  const match = FORBIDDEN.exec(text.replaceAll('\\"', '"'));
  if (!match) return undefined;
  return { verb: match[1]!, resource: match[2]!, group: match[3]! };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export interface StallWatch {
  /** Settles with a reason once waiting for the operator is pointless. */
  stalled: Promise<string>;
  /** Call before stopping the manager ourselves: its exit is then no finding. */
  disarm(): void;
}

/** Asks the cluster whether the operator is still refused this (the 403 may have come before its binding was seen). */
export type StillRefused = (refused: { verb: string; resource: string; group: string }) => Promise<boolean>;

/**
 * Waiting for the operator is pointless once it exited, or once its role keeps it from listing or
 * watching a kind it depends on (its controllers then wait forever for a cache that never syncs).
 * A 403 starts a grace period; at its end the cluster is asked whether the refusal still holds, so
 * a manager that started a moment before its RoleBinding was seen, and recovered on retry, is not
 * cut short. Pending checks are then decided at once, naming the reason.
 */
export function watchForStalls(
  manager: RunningManager,
  finding: (text: string) => void,
  stillRefused: StillRefused,
  graceMs = FORBIDDEN_GRACE_MS,
): StallWatch {
  let armed = true;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<string>((resolve) => {
    manager.exited.then(
      (exit) => {
        clearTimeout(timer);
        if (!armed) return;
        const how = exit.reason ?? (exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`);
        finding(`The operator ${how} at ${seconds(exit.at)}.`);
        resolve(`the operator ${how} at ${seconds(exit.at)}`);
      },
      () => undefined,
    );
    const reported = new Set<string>();
    const onLog = (line: LogLine) => {
      const refused = forbiddenListOrWatch(line.text);
      if (!refused || timer || !armed) return;
      const what = `${refused.resource}${refused.group ? `.${refused.group}` : ""}`;
      timer = setTimeout(() => {
        void stillRefused(refused).then(
          (still) => {
            if (!armed) return;
            if (!still) {
              // The refusal did not last: a later 403 may start a new grace period.
              timer = undefined;
              return;
            }
            if (!reported.has(what))
              finding(
                `The API server refused the operator: it cannot ${refused.verb} ${what} (403 at ${seconds(line.at)}). Add the RBAC marker for it and run \`make manifests\`.`,
              );
            reported.add(what);
            resolve(
              `the operator's role does not let it ${refused.verb} ${what} (403 in its log at ${seconds(line.at)}, still refused ${seconds(graceMs)} later), so its controllers wait for a cache that never syncs`,
            );
          },
          () => {
            timer = undefined;
          },
        );
      }, graceMs);
      timer.unref();
    };
    for (const line of manager.logs) onLog(line);
    manager.onLog(onLog);
  });
  return {
    stalled,
    disarm() {
      armed = false;
      clearTimeout(timer);
    },
  };
}
