import type { CheckResult, GradeProgress } from "../contracts.ts";
import type { CheckSpec } from "../engine/lab.ts";
import type { RenderedCheck } from "../engine/render.ts";
import type { Trace } from "../engine/trace.ts";
import { unjudged } from "./cluster-watch.ts";
import type { LiveVerdict } from "./live-check.ts";
import { earned, toCheckResult, undecided } from "./results.ts";

/** Where a verdict was reached: its scenario and namespace (none for cluster-level checks), and the trace so far. */
export interface VerdictContext {
  scenario?: string;
  namespace?: string;
  trace?: Trace;
}

/** Every check's result as a grade decides them, published the moment each is final. */
export interface Tally {
  /** Decides a check once (later verdicts for it are ignored); a pass that requires other checks waits for them. */
  record(check: RenderedCheck, verdict: LiveVerdict, context: VerdictContext): void;
  /** The project cannot be run: every check not yet decided fails, saying why. */
  failUndecided(headline: string): void;
  /** The cluster broke: failures judged on it become not gradable. */
  unjudge(reason: string): void;
  /** Every check in the lab's order; one never decided is not gradable, for `reason` if given. */
  checks(reason?: string): CheckResult[];
  /**
   * Settles, saying which, once any of these checks fails: a check that requires them can no
   * longer be earned, so waiting on it is pointless. Never settles otherwise.
   */
  whenAnyFailed(ids: string[]): Promise<string>;
}

export function createTally(allChecks: CheckSpec[], progress: (progress: GradeProgress) => void): Tally {
  const results = new Map<string, CheckResult>();
  // Checks that passed but are earned only once the checks they require have passed too.
  const held = new Map<string, { result: CheckResult; requires: string[] }>();
  const failedListeners = new Set<{ ids: string[]; settle: (reason: string) => void }>();
  const failed = (result: CheckResult) => `"${result.title}", failed`;
  const publish = (result: CheckResult) => {
    results.set(result.id, result);
    progress({ type: "check", result });
    if (result.status !== "failed") return;
    for (const listener of failedListeners)
      if (listener.ids.includes(result.id)) {
        failedListeners.delete(listener);
        listener.settle(failed(result));
      }
  };
  const releaseHeld = (final: boolean) => {
    for (const [id, { result, requires }] of held) {
      const required = requires.map((r) => results.get(r));
      if (!final && required.some((r) => r === undefined)) continue;
      held.delete(id);
      publish(
        earned(
          result,
          required.filter((r): r is CheckResult => r !== undefined),
          requires,
        ),
      );
    }
  };
  return {
    record(check, verdict, { scenario, namespace, trace }) {
      if (results.has(check.id) || held.has(check.id)) return;
      const result = toCheckResult(check, verdict, scenario, trace, namespace);
      if (result.status === "passed" && check.requires.length > 0)
        held.set(check.id, { result, requires: check.requires });
      else publish(result);
      // A held check's requirements may just have been decided (this one among them).
      releaseHeld(false);
    },
    failUndecided(headline) {
      for (const check of allChecks) {
        if (!results.has(check.id))
          results.set(check.id, { ...undecided(check, headline), status: "failed", message: `${headline}.` });
      }
    },
    unjudge(reason) {
      for (const [id, result] of results) results.set(id, unjudged(result, reason));
    },
    whenAnyFailed(ids) {
      const already = ids.map((id) => results.get(id)).find((r) => r?.status === "failed");
      if (already) return Promise.resolve(failed(already));
      return new Promise((settle) => failedListeners.add({ ids, settle }));
    },
    checks(reason) {
      releaseHeld(true);
      return allChecks.map(
        (c) => results.get(c.id) ?? undecided(c, reason ?? "the grade ended before this check was decided"),
      );
    },
  };
}
