import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { runChecked } from "../process/command.ts";
import { buildManager, type BuildResult } from "./build.ts";
import type { ManagerCache } from "./manager-cache.ts";
import type { SandboxSettings } from "./sandbox.ts";

/** One change to one reference file: `find` must occur exactly once. */
export const MutantEditSchema = z.object({
  /** Project-relative path of the file to change. */
  file: z.string().min(1),
  /** The exact text to replace. */
  find: z.string().min(1),
  /** What replaces it. */
  replace: z.string(),
});
export type MutantEdit = z.infer<typeof MutantEditSchema>;

/** A variant of the reference operator: small edits built as a `go build -overlay`. */
export const VariantSchema = z.object({
  /** The lab whose checks the variant is graded on. */
  lab: z.string().min(1),
  /** What the variant does differently, as a learner would have written it. */
  description: z.string().min(1),
  /** The edits; files they touch are replaced at build time. */
  edits: z.array(MutantEditSchema).min(1),
  /** Regenerate config/ with controller-gen from the edited sources, as `make manifests` would. */
  manifests: z.boolean().default(false),
});
export type Variant = z.infer<typeof VariantSchema>;

/** A broken variant (test/mutants/<name>/mutant.yaml): proof that each check it lists can fail. */
export const MutantSchema = VariantSchema.extend({
  /** Check ids this mutant must fail; every other check must pass (but those in mayFail). */
  fails: z.array(z.string()).min(1),
  /**
   * Check ids this mutant fails or not depending on timing, each verdict right: a race its
   * broken code loses only on a slow host. They prove nothing (not coverage) and are no mismatch.
   */
  mayFail: z.array(z.string()).default([]),
});
export type Mutant = z.infer<typeof MutantSchema>;

/**
 * A correct variant written differently (test/controls/<name>/control.yaml): proof that the checks
 * accept it. Without `score` it must get full marks; a score control (an idle operator, one with
 * a controller missing) proves instead how little it may get.
 */
export const ControlSchema = VariantSchema.extend({
  /** For a score control: the most points it may get, and the tasks whose every required check it must fail. */
  score: z
    .strictObject({
      atMost: z.number().int().min(0).optional(),
      losesTasks: z.array(z.string().min(1)).min(1).optional(),
    })
    .optional(),
});
export type Control = z.infer<typeof ControlSchema>;

async function loadVariantFile<T>(file: string, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

export function loadMutant(dir: string): Promise<Mutant> {
  return loadVariantFile(join(dir, "mutant.yaml"), MutantSchema);
}

export function loadControl(dir: string): Promise<Control> {
  return loadVariantFile(join(dir, "control.yaml"), ControlSchema);
}

/** Writes each edited file under outDir and returns the overlay map (project path -> edited file). */
export async function materializeEdits(
  projectDir: string,
  edits: MutantEdit[],
  outDir: string,
): Promise<Record<string, string>> {
  const files = new Map<string, string>();
  for (const edit of edits) {
    const text = files.get(edit.file) ?? (await readFile(join(projectDir, edit.file), "utf8"));
    const count = text.split(edit.find).length - 1;
    if (count !== 1)
      throw new Error(
        `mutant edit of ${edit.file} expects its text exactly once, found it ${count} times: ${JSON.stringify(edit.find.slice(0, 80))}`,
      );
    files.set(
      edit.file,
      text.replace(edit.find, () => edit.replace),
    );
  }
  const overlay: Record<string, string> = {};
  for (const [file, text] of files) {
    const target = join(outDir, file);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
    overlay[file] = target;
  }
  return overlay;
}

export type OperatorSource =
  | {
      kind: "project";
      dir: string;
      /** Our own code (the reference operator): built as ourselves even where learners' projects are built in the sandbox. */
      ours?: boolean;
    }
  | { kind: "variant"; referenceDir: string; variant: Variant };

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
  /** Build a submitted project as a sandbox uid (the reference and its variants are ours, and built as ourselves). */
  sandbox?: SandboxSettings;
  /** Where managers of our own code are kept; a sandboxed build never reads or writes it. */
  managerCache?: ManagerCache;
}

/** Builds the manager and settles where its CRDs and role come from. */
export async function prepareOperator(source: OperatorSource, options: PrepareOptions): Promise<PreparedOperator> {
  const outDir = join(options.workDir, "build");
  if (source.kind === "project") {
    const sandbox = source.ours ? undefined : options.sandbox;
    const build = await buildManager({
      projectDir: source.dir,
      outDir,
      env: options.goEnv,
      timeoutMs: options.buildTimeoutMs,
      ...(sandbox ? { sandbox } : options.managerCache ? { managerCache: options.managerCache } : {}),
    });
    return { manifestsDir: source.dir, build };
  }
  const overlay = await materializeEdits(source.referenceDir, source.variant.edits, join(options.workDir, "overlay"));
  // Edits of config/ (the manager's Deployment, a PodDisruptionBudget) are the deploy's, not the
  // build's: left out of it, a variant that changes only manifests reuses the reference's manager.
  const isConfig = (file: string) => file.startsWith("config/");
  const build = await buildManager({
    projectDir: source.referenceDir,
    outDir,
    overlay: Object.fromEntries(Object.entries(overlay).filter(([file]) => !isConfig(file))),
    env: options.goEnv,
    timeoutMs: options.buildTimeoutMs,
    ...(options.managerCache ? { managerCache: options.managerCache } : {}),
  });
  if (!source.variant.manifests && !Object.keys(overlay).some(isConfig))
    return { manifestsDir: source.referenceDir, build };
  if (!source.variant.manifests) {
    // config/ as the variant has it, for the deploy to render.
    const copy = join(options.workDir, "project");
    await cp(join(source.referenceDir, "config"), join(copy, "config"), { recursive: true });
    for (const [target, file] of Object.entries(overlay)) if (isConfig(target)) await cp(file, join(copy, target));
    return { manifestsDir: copy, build };
  }
  // controller-gen has no overlay: regenerate from a copy with the variant's files in place.
  const copy = join(options.workDir, "project");
  await cp(source.referenceDir, copy, { recursive: true, filter: (src) => !/\/(bin|cover\.out)$/.test(src) });
  for (const [target, file] of Object.entries(overlay)) await cp(file, join(copy, target));
  await runChecked(
    options.controllerGen,
    ["rbac:roleName=manager-role", "crd", "webhook", "paths=./...", "output:crd:artifacts:config=config/crd/bases"],
    {
      cwd: copy,
      env: options.goEnv,
      timeoutMs: 300_000,
    },
  );
  return { manifestsDir: copy, build };
}
