import type { CheckContext, DecidedVerdict } from "../engine/check.ts";
import { evaluateCheck } from "../engine/registry.ts";
import type { RenderedCheck } from "../engine/render.ts";
import type { ProbeResult } from "../engine/trace.ts";
import type { Recorder } from "../kube/recorder.ts";

export interface LiveCheckOptions {
  recorder: Recorder;
  check: RenderedCheck;
  namespace: string;
  clock: () => number;
  probe?: ProbeResult;
  /** For background checks: settles when the scenario ends, which closes the window early. */
  windowEnd?: Promise<void>;
  /** Settles with a reason when the grade must stop waiting (the operator died, a 403 stalls it). */
  abort: Promise<string>;
}

export type LiveVerdict =
  | DecidedVerdict
  /** The operator made the check undecidable (it exited, or a 403 stalls it): the learner's failure. */
  | { status: "aborted"; reason: string; decidedAt: number }
  /** Our own fault while judging: not gradable. */
  | { status: "error"; reason: string; decidedAt: number };

/**
 * Decides a check the moment the trace decides it: it is evaluated after every recorded change
 * (coalesced per tick), at any time the check asks to be looked at again, and finally at its
 * deadline or when its window closes.
 */
export function liveCheck(options: LiveCheckOptions): Promise<LiveVerdict> {
  const { recorder, check, clock } = options;
  const since = clock();
  const deadline = since + check.timeoutMs;
  const context = (): CheckContext => ({
    trace: recorder.trace,
    namespace: options.namespace,
    since,
    now: clock(),
    final: false,
    ...(options.probe ? { probe: options.probe } : {}),
  });
  return new Promise<LiveVerdict>((resolve) => {
    let done = false;
    let scheduled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (verdict: LiveVerdict) => {
      if (done) return;
      done = true;
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      resolve(verdict);
    };
    const evaluate = (final: boolean) => {
      try {
        judge(final);
      } catch (e) {
        finish({
          status: "error",
          reason: `while judging ${check.id}: ${e instanceof Error ? e.message : String(e)}`,
          decidedAt: clock(),
        });
      }
    };
    const judge = (final: boolean) => {
      if (done) return;
      const ctx: CheckContext = { ...context(), final };
      const now = ctx.now;
      const verdict = evaluateCheck(check, ctx);
      if (verdict.status === "undecidable")
        return finish({ status: "error", reason: verdict.reason, decidedAt: verdict.decidedAt });
      if (verdict.status !== "pending") return finish(verdict);
      if (final) throw new Error(`check ${check.id} stayed pending with final: true`);
      if (verdict.recheckAt !== undefined && verdict.recheckAt > now && verdict.recheckAt < deadline) {
        timers.push(setTimeout(() => evaluate(false), verdict.recheckAt - now));
      }
    };
    const onChange = () => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        evaluate(false);
      });
    };
    const unsubscribe = recorder.onChange(onChange);
    timers.push(setTimeout(() => evaluate(true), Math.max(0, deadline - clock())));
    options.windowEnd?.then(
      () => evaluate(true),
      () => undefined,
    );
    // Waiting longer cannot change anything: decide now on what was recorded, and say why it ended early.
    options.abort.then(
      (reason) => {
        if (done) return;
        try {
          const verdict = evaluateCheck(check, { ...context(), final: true });
          if (verdict.status === "undecidable")
            finish({ status: "error", reason: verdict.reason, decidedAt: verdict.decidedAt });
          else if (verdict.status === "failed")
            finish({ ...verdict, message: `${verdict.message} (the grade stopped waiting: ${reason})` });
          else if (verdict.status === "passed") finish(verdict);
          else finish({ status: "aborted", reason, decidedAt: clock() });
        } catch {
          finish({ status: "aborted", reason, decidedAt: clock() });
        }
      },
      () => undefined,
    );
    evaluate(false);
  });
}
