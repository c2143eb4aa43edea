import { cp, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { runChecked } from "../process/command.ts";
import { buildManager, type BuildResult } from "./build.ts";

/** A broken variant of the reference operator: files replaced at build time, and the checks it must fail. */
export const MutantSchema = z.object({
  /** What the mutant breaks, as a learner would have broken it. */
  description: z.string().min(1),
  /** Project-relative path -> replacement file in the mutant's folder (`go build -overlay`). */
  overlay: z.record(z.string(), z.string()),
  /** Regenerate config/ with controller-gen from the mutated sources, as `make manifests` would. */
  manifests: z.boolean().default(false),
  /** Check ids this mutant must fail; every other required check must pass. */
  fails: z.array(z.string()).min(1),
});
export type Mutant = z.infer<typeof MutantSchema>;

export async function loadMutant(dir: string): Promise<Mutant> {
  const file = join(dir, "mutant.yaml");
  const parsed = MutantSchema.safeParse(parse(await readFile(file, "utf8")));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

export type OperatorSource =
  | { kind: "project"; dir: string }
  | { kind: "mutant"; referenceDir: string; mutantDir: string; mutant: Mutant };

export interface PreparedOperator {
  /** Where config/crd/bases and config/rbac/role.yaml are read from. */
  manifestsDir: string;
  build: BuildResult;
}

export interface PrepareOptions {
  workDir: string;
  goEnv: Record<string, string | undefined>;
  controllerGen: string;
  buildTimeoutMs?: number;
}

/** Builds the manager and settles where its CRDs and role come from. */
export async function prepareOperator(source: OperatorSource, options: PrepareOptions): Promise<PreparedOperator> {
  const outDir = join(options.workDir, "build");
  if (source.kind === "project") {
    const build = await buildManager({ projectDir: source.dir, outDir, env: options.goEnv, timeoutMs: options.buildTimeoutMs });
    return { manifestsDir: source.dir, build };
  }
  const overlay = Object.fromEntries(Object.entries(source.mutant.overlay).map(([target, file]) => [target, resolve(source.mutantDir, file)]));
  const build = await buildManager({ projectDir: source.referenceDir, outDir, overlay, env: options.goEnv, timeoutMs: options.buildTimeoutMs });
  if (!source.mutant.manifests) return { manifestsDir: source.referenceDir, build };
  // controller-gen has no overlay: regenerate from a copy with the mutant's files in place.
  const copy = join(options.workDir, "project");
  await cp(source.referenceDir, copy, { recursive: true, filter: (src) => !/\/(bin|cover\.out)$/.test(src) });
  for (const [target, file] of Object.entries(overlay)) await cp(file, join(copy, target));
  await runChecked(options.controllerGen, ["rbac:roleName=manager-role", "crd", "webhook", "paths=./...", "output:crd:artifacts:config=config/crd/bases"], {
    cwd: copy,
    env: options.goEnv,
    timeoutMs: 300_000,
  });
  return { manifestsDir: copy, build };
}
