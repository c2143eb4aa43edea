import { POD_SECURITY_ENFORCE, type PodSecurity } from "../engine/lab.ts";
import { probeFor } from "../engine/registry.ts";
import type { RenderedCheck, RenderedScenario, RenderedStep } from "../engine/render.ts";
import type { KubeObject, ProbeResult } from "../engine/trace.ts";
import { KubeApiError, type KubeClient } from "../kube/client.ts";
import type { Recorder } from "../kube/recorder.ts";
import { LearnerFault, PlatformFault } from "../errors.ts";
import { liveCheck, type LiveVerdict } from "./live-check.ts";

export interface ScenarioDeps {
  admin: KubeClient;
  recorder: Recorder;
  clock: () => number;
  /** Labels for everything the grader creates (managed-by, attempt id). */
  labels: Record<string, string>;
  /** The Pod Security level the scenario's namespace enforces (the lab's `podSecurity`). */
  podSecurity: PodSecurity;
  abort: Promise<string>;
  /** Asks the cluster what a check needs to know first (dry-run apply, access review), if anything. */
  probe: (check: RenderedCheck) => Promise<ProbeResult | undefined>;
  /** Called the moment each check is decided. */
  onVerdict: (check: RenderedCheck, verdict: LiveVerdict, scenario: string) => void;
  /** Settles once one of these checks fails (see Tally.whenAnyFailed). */
  whenAnyFailed: (ids: string[]) => Promise<string>;
}

function describeStep(step: RenderedStep): string {
  switch (step.action) {
    case "apply":
      return `applying fixture ${step.fixture}`;
    case "patch":
      return `patching ${step.resource.kind} ${step.name}${step.subresource ? `/${step.subresource}` : ""}`;
    case "delete":
      return `deleting ${step.resource.kind} ${step.name}`;
    default:
      return step.action;
  }
}

/** The API refused what the lab asks for (unknown kind, invalid object): the operator's CRDs are at fault. */
function isLearnerFault(e: unknown): boolean {
  // Server-side apply answers 500 when the object has a field the CRD's schema lacks.
  if (e instanceof KubeApiError && e.message.includes("field not declared in schema")) return true;
  if (e instanceof KubeApiError) return e.status >= 400 && e.status < 500 && e.status !== 429 && e.status !== 401;
  return e instanceof Error && e.message.includes("does not serve");
}

/** What a failed precondition (the grader's own setup) says: the platform's fault, not the operator's. */
const SETUP_FAILED = "the grader's own setup did not hold";

/** How often a dry-run that must wait for its outcome is asked again. */
const REPROBE_MS = 1_000;

/** How long a step waits for the recorder to see what it wrote. */
const CATCH_UP_MS = 10_000;

async function act(step: RenderedStep, namespace: string, deps: ScenarioDeps): Promise<void> {
  const { admin } = deps;
  const written: KubeObject[] = [];
  try {
    if (step.action === "apply") {
      for (const object of step.objects) {
        const info = await admin.resource(object.apiVersion, object.kind);
        const metadata = {
          ...object.metadata,
          labels: { ...object.metadata.labels, ...deps.labels },
          ...(info.namespaced ? { namespace: object.metadata.namespace ?? namespace } : {}),
        };
        written.push(await admin.apply({ ...object, metadata } as KubeObject));
      }
    } else if (step.action === "patch") {
      const key = {
        apiVersion: step.resource.apiVersion,
        kind: step.resource.kind,
        name: step.name,
        namespace: step.namespace,
      };
      written.push(await admin.patch(key, step.mergePatch, step.subresource ? { subresource: step.subresource } : {}));
    } else if (step.action === "delete") {
      const key = {
        apiVersion: step.resource.apiVersion,
        kind: step.resource.kind,
        name: step.name,
        namespace: step.namespace,
      };
      if (await admin.delete(key)) {
        const object = {
          apiVersion: key.apiVersion,
          kind: key.kind,
          metadata: { name: key.name, ...(key.namespace ? { namespace: key.namespace } : {}) },
        };
        await deps.recorder.caughtUpDeletion(object, CATCH_UP_MS);
      }
    }
    // Read your writes: the checks that follow must see what this step did.
    for (const object of written) await deps.recorder.caughtUp(object, CATCH_UP_MS);
  } catch (e) {
    // A step that could not be carried out: the learner's fault (the API refused the object) or ours.
    const message = `${describeStep(step)} failed: ${e instanceof Error ? e.message : String(e)}`;
    throw isLearnerFault(e) ? new LearnerFault(message, { cause: e }) : new PlatformFault(message, { cause: e });
  }
}

/**
 * Runs one scenario in its own namespace: steps in order, each check group waited for, background
 * checks decided when they fail or when the scenario ends. A step that cannot be carried out decides
 * every check not yet started.
 */
export async function runScenario(scenario: RenderedScenario, deps: ScenarioDeps): Promise<void> {
  const { clock } = deps;
  let endScenario!: () => void;
  const ended = new Promise<void>((r) => (endScenario = r));
  const background: Promise<void>[] = [];
  const judge = async (check: RenderedCheck, windowEnd?: Promise<void>): Promise<LiveVerdict> => {
    let verdict: LiveVerdict;
    const started = clock();
    const request = probeFor(check);
    const askAgain = request?.kind === "admission" && request.untilOutcome === true;
    // A check whose requirement failed can no longer be earned: it is decided on what was recorded then.
    const abort =
      check.requires.length === 0
        ? deps.abort
        : Promise.race([deps.abort, deps.whenAnyFailed(check.requires).then((what) => `a check it requires, ${what}`)]);
    try {
      for (;;) {
        const probe = await deps.probe(check);
        verdict = await liveCheck({
          recorder: deps.recorder,
          check,
          namespace: scenario.namespace,
          clock,
          abort,
          ...(probe ? { probe } : {}),
          ...(windowEnd ? { windowEnd } : {}),
        });
        // A dry-run answers for the moment it was asked: asked again until it holds (see untilOutcome).
        if (!askAgain || verdict.status !== "failed" || clock() - started >= check.timeoutMs) break;
        await new Promise((r) => setTimeout(r, REPROBE_MS));
      }
    } catch (e) {
      verdict = { status: "error", reason: e instanceof Error ? e.message : String(e), decidedAt: clock() };
    }
    if (check.precondition && verdict.status === "failed")
      verdict = {
        status: "error",
        reason: `${SETUP_FAILED}: ${verdict.message} (expected ${verdict.expected}, saw ${verdict.actual})`,
        decidedAt: verdict.decidedAt,
      };
    deps.onVerdict(check, verdict, scenario.id);
    return verdict;
  };
  // The scenario cannot go on: every check of the steps after `from` is decided as it says.
  const decideRest = (from: number, status: "aborted" | "error", reason: string) => {
    for (const step of scenario.steps.slice(from))
      if (step.action === "checks" || step.action === "watch")
        for (const check of step.checks) deps.onVerdict(check, { status, reason, decidedAt: clock() }, scenario.id);
  };
  try {
    await deps.admin.apply({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: scenario.namespace, labels: { ...deps.labels, [POD_SECURITY_ENFORCE]: deps.podSecurity } },
    });
    for (const [index, step] of scenario.steps.entries()) {
      if (step.action === "checks") {
        const verdicts = await Promise.all(step.checks.map((c) => judge(c)));
        const unmet = step.checks.findIndex((c, i) => c.precondition && verdicts[i]?.status === "error");
        if (unmet >= 0) {
          // The grader's own setup did not hold: what follows would judge the operator on a false premise.
          decideRest(
            index + 1,
            "error",
            `${SETUP_FAILED} (${step.checks[unmet]!.title}), so the rest of scenario ${scenario.id} cannot be judged; it is graded again`,
          );
          return;
        }
      } else if (step.action === "watch")
        background.push(...step.checks.map((c) => judge(c, ended).then(() => undefined)));
      else {
        try {
          await act(step, scenario.namespace, deps);
        } catch (e) {
          const reason = e instanceof LearnerFault || e instanceof PlatformFault ? e.message : String(e);
          decideRest(index + 1, e instanceof LearnerFault ? "aborted" : "error", reason);
          return;
        }
      }
    }
  } finally {
    endScenario();
    await Promise.all(background);
  }
}
