import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ProviderNameSchema } from "../contracts.ts";
import { gradeOperator } from "../grading/grade.ts";
import { toJUnit } from "../grading/junit.ts";
import { gradeUntilGradable, PLATFORM_RETRIES } from "../grading/retry.ts";
import { allRequiredPassed, checkLine, textReport } from "../grading/report.ts";
import { loadLab } from "../labs/load.ts";
import { REFERENCE_OPERATOR_DIR } from "../runner/reference.ts";
import type { CliContext } from "./context.ts";
import { gradingDeps } from "./grading-deps.ts";

export const gradeHelp = `labgrader grade --lab ID --operator DIR|reference [--provider ${ProviderNameSchema.options.join("|")}]
                [--json FILE] [--junit FILE] [--manager-arg ARG]… [--sandbox] [--retries N] [--keep-work]
  Grades an operator project (a kubebuilder project folder) on a lab in a fresh cluster.
  A grade the platform could not tell (not gradable: a busy host, a cluster that broke) is
  run again, up to --retries times (default ${PLATFORM_RETRIES}).
  Exits 0 only when every required check passes. --manager-arg passes a flag to the
  manager (e.g. --manager-arg=--phase-delay=1s for the reference operator). --sandbox runs
  the manager under its own uid with memory/pids/cpu limits and no network but its API
  server (also on with LABGRADER_SANDBOX=1; needs root, cgroup v1, setpriv, iptables).
  The grade's work folder (project copy, manager, its log) is removed at the end unless
  --keep-work (then the folder is printed).`;

export async function gradeCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      lab: { type: "string" },
      operator: { type: "string" },
      provider: { type: "string" },
      json: { type: "string" },
      junit: { type: "string" },
      "manager-arg": { type: "string", multiple: true },
      sandbox: { type: "boolean" },
      retries: { type: "string" },
      "keep-work": { type: "boolean" },
    },
  });
  if (!values.lab || !values.operator) throw new Error(`grade needs --lab and --operator\n${gradeHelp}`);
  const lab = await loadLab(values.lab);
  const deps = await gradingDeps(ctx, values.provider, values.sandbox);
  const dir = values.operator === "reference" ? REFERENCE_OPERATOR_DIR : resolve(values.operator);
  const retries = Number(values.retries ?? PLATFORM_RETRIES);
  if (!Number.isInteger(retries) || retries < 0)
    throw new Error(`--retries wants a whole number, not ${values.retries}`);
  const workRoot = await mkdtemp(join(tmpdir(), "labgrader-grade-"));
  const keepWork = values["keep-work"] === true;
  const result = await gradeUntilGradable(
    (attempt) =>
      gradeOperator({
        lab,
        source: { kind: "project", dir },
        operatorName: values.operator!,
        ...deps,
        workDir: join(workRoot, String(attempt)),
        managerArgs: values["manager-arg"] ?? [],
        onProgress: (p) => {
          if (!ctx.isTty) return;
          if (p.type === "phase") ctx.log(`… ${p.phase} (${(p.at / 1000).toFixed(1)} s)`);
          if (p.type === "check") ctx.log(checkLine(p.result));
        },
      }),
    retries,
    (r, attempt) =>
      ctx.log(
        `not gradable (${r.reason ?? "the platform could not tell"}): grading again (${attempt + 1} of ${retries + 1})`,
      ),
  ).finally(() =>
    keepWork ? ctx.log(`work folder kept in ${workRoot}`) : rm(workRoot, { recursive: true, force: true }),
  );
  if (values.json) await writeFile(values.json, JSON.stringify(result, null, 2));
  if (values.junit) await writeFile(values.junit, toJUnit([result]));
  ctx.out(textReport(result));
  return allRequiredPassed(result) ? 0 : 1;
}
