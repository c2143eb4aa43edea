import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ProviderNameSchema } from "../clusters/provider.ts";
import { createProvider } from "../clusters/select.ts";
import { gradeOperator } from "../grading/grade.ts";
import { toJUnit } from "../grading/junit.ts";
import { allRequiredPassed, checkLine, textReport } from "../grading/report.ts";
import { loadLab } from "../labs/load.ts";
import { REFERENCE_OPERATOR_DIR } from "../runner/reference.ts";
import { ensureToolchain } from "../toolchain/build.ts";
import type { CliContext } from "./context.ts";
import { managerEnvironment } from "./environment.ts";

export const gradeHelp = `labgrader grade --lab ID --operator DIR|reference [--provider kwok|kind|kubeconfig]
                [--json FILE] [--junit FILE] [--manager-arg ARG]…
  Grades an operator project (a kubebuilder project folder) on a lab in a fresh cluster.
  Exits 0 only when every required check passes. --manager-arg passes a flag to the
  manager (e.g. --manager-arg=--phase-delay=1s for the reference operator).`;

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
    },
  });
  if (!values.lab || !values.operator) throw new Error(`grade needs --lab and --operator\n${gradeHelp}`);
  const lab = await loadLab(values.lab);
  const { toolchain } = await ensureToolchain({ cacheDir: ctx.config.cacheDir, env: ctx.env, log: ctx.log }, false);
  const provider = createProvider(ProviderNameSchema.parse(values.provider ?? ctx.config.provider), { config: ctx.config, toolchain, env: ctx.env, log: ctx.log });
  const dir = values.operator === "reference" ? REFERENCE_OPERATOR_DIR : resolve(values.operator);
  const result = await gradeOperator({
    lab,
    source: { kind: "project", dir },
    operatorName: values.operator,
    provider,
    workDir: await mkdtemp(join(tmpdir(), "labgrader-grade-")),
    controllerGen: toolchain.binaries["controller-gen"],
    goEnv: ctx.env,
    managerEnv: managerEnvironment(ctx.env),
    managerArgs: values["manager-arg"] ?? [],
    onProgress: (p) => {
      if (!ctx.isTty) return;
      if (p.type === "phase") ctx.log(`… ${p.phase} (${(p.at / 1000).toFixed(1)} s)`);
      if (p.type === "check") ctx.log(checkLine(p.result));
    },
  });
  if (values.json) await writeFile(values.json, JSON.stringify(result, null, 2));
  if (values.junit) await writeFile(values.junit, toJUnit([result]));
  ctx.out(textReport(result));
  return allRequiredPassed(result) ? 0 : 1;
}
