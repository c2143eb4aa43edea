import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { posix, relative, resolve, sep } from "node:path";
import { parse } from "yaml";

/**
 * kustomize renders config/default as the worker's user: a kustomization that names a remote base
 * (fetched with git or HTTP), an absolute path or one outside the project would make it read what
 * labgrader can read. Before it runs, every kustomization reachable from config/default is read
 * here, and any such entry refuses the render. kustomize itself then runs with
 * LoadRestrictionsRootOnly and an environment of its own (kustomizeEnv).
 */

/** One path a kustomization names: where, and what it says. */
export interface KustomizeEntry {
  field: string;
  value: string;
}

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : typeof v === "string" ? [v] : [];
/** An entry that may hold a patch or a configuration inline rather than a file's path. */
const isInline = (value: string) => value.includes("\n");

/** Every entry of a kustomization that names a file or a folder to load. */
export function kustomizationEntries(kustomization: unknown): KustomizeEntry[] {
  if (!isObject(kustomization)) return [];
  const entries: KustomizeEntry[] = [];
  const add = (field: string, values: string[]) =>
    entries.push(...values.filter((v) => !isInline(v)).map((value) => ({ field, value })));
  for (const field of ["resources", "bases", "components", "crds", "configurations", "patchesStrategicMerge"])
    add(field, strings(kustomization[field]));
  for (const field of ["patches", "patchesJson6902", "replacements"]) {
    for (const item of Array.isArray(kustomization[field]) ? kustomization[field] : [])
      if (isObject(item)) add(`${field}[].path`, strings(item.path));
  }
  if (isObject(kustomization.openapi)) add("openapi.path", strings(kustomization.openapi.path));
  for (const field of ["configMapGenerator", "secretGenerator"]) {
    for (const generator of Array.isArray(kustomization[field]) ? kustomization[field] : []) {
      if (!isObject(generator)) continue;
      // "key=path" names the key the file's content is stored under.
      add(
        `${field}[].files`,
        strings(generator.files).map((f) => f.slice(f.indexOf("=") + 1)),
      );
      add(`${field}[].envs`, [...strings(generator.envs), ...strings(generator.env)]);
    }
  }
  return entries;
}

/**
 * Why kustomize must not load this entry, or undefined: remote (a URL, git@host:, github.com/…, a
 * go-getter `//` or `?ref=`), or absolute. kustomize tries an entry as a repository before it
 * looks on disk, so anything that reads as one is refused even if a folder of that name exists.
 */
export function remoteOrAbsolute(value: string): string | undefined {
  if (value.startsWith("/") || value.startsWith("~") || /^[A-Za-z]:[\\/]/.test(value)) return "an absolute path";
  const remote = [
    /^[a-z][a-z0-9+.-]*:/i, // https:, ssh:, file:, git::, gh:, github.com: (scp-like)
    /^[\w.-]+@[\w.-]+[:/]/, // git@host:org/repo
    /^(github|gitlab|bitbucket)\.(com|org)(\/|$)/i,
    /^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(:\d+)?\/[^/]+\/[^/]+/i, // host.tld/org/repo
    /[?#]/, // ?ref=, ?version=, ?submodules=
    /\/\//, // go-getter's repo//path
    /_git\//, // Azure DevOps
  ];
  return remote.some((re) => re.test(value)) ? "remote (kustomize would fetch it)" : undefined;
}

/** The entry's path from the project's root, or undefined when it leaves the project. */
export function resolveEntry(kustomizationDir: string, value: string): string | undefined {
  const joined = posix.normalize(posix.join(kustomizationDir, value));
  return joined === ".." || joined.startsWith("../") ? undefined : joined;
}

/** The problems of one kustomization's entries, each naming the file and the entry; and the paths it loads. */
export function reviewKustomization(file: string, kustomization: unknown): { findings: string[]; paths: string[] } {
  const findings: string[] = [];
  const paths: string[] = [];
  if (isObject(kustomization)) {
    // Plugins (helm, KRM functions, generator and transformer configurations) read and run what their own files say.
    for (const field of [
      "helmCharts",
      "helmChartInflationGenerator",
      "helmGlobals",
      "generators",
      "transformers",
      "validators",
    ]) {
      if (kustomization[field] !== undefined)
        findings.push(
          `${file}: ${field} asks kustomize to run plugins; labgrader renders only the project's own manifests, patches and ConfigMap or Secret generators.`,
        );
    }
  }
  for (const { field, value } of kustomizationEntries(kustomization)) {
    const why = remoteOrAbsolute(value);
    const path = why ? undefined : resolveEntry(posix.dirname(file), value);
    if (why)
      findings.push(`${file}: ${field} entry "${value}" is ${why}; labgrader renders only files inside the project.`);
    else if (path === undefined)
      findings.push(
        `${file}: ${field} entry "${value}" leaves the project; labgrader renders only files inside the project.`,
      );
    else paths.push(path);
  }
  return { findings, paths };
}

const inside = (root: string, path: string) => path === root || path.startsWith(root + sep);

/** Links in the copy of config/ that lead out of it (only config/ is copied): kustomize would follow them. */
async function escapingLinks(root: string, realRoot: string, dir: string, findings: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = resolve(dir, entry.name);
    if (entry.isDirectory()) await escapingLinks(root, realRoot, path, findings);
    if (!entry.isSymbolicLink()) continue;
    const target = await realpath(path).catch(() => undefined);
    if (!target || !inside(realRoot, target))
      findings.push(
        `${relative(root, path)} is a link to something outside config/ (or to nothing); labgrader renders only the project's own config/ files.`,
      );
  }
}

/**
 * Reads every kustomization reachable from `start` (relative to the project's root `root`, a copy
 * of the project's config/) and returns what refuses the render: remote, absolute or escaping
 * entries, plugins, and links out of the copy. An empty list means kustomize may run.
 */
export async function checkKustomizations(root: string, start = "config/default"): Promise<string[]> {
  const findings: string[] = [];
  const realRoot = await realpath(root);
  await escapingLinks(root, realRoot, resolve(root, "config"), findings);
  const seen = new Set<string>();
  const folders = [start];
  while (folders.length > 0) {
    const folder = folders.pop()!;
    if (seen.has(folder)) continue;
    seen.add(folder);
    const name = await firstExisting(root, folder);
    if (!name) continue; // kustomize says which folder holds no kustomization.
    const file = posix.join(folder, name);
    let kustomization: unknown;
    try {
      // Merge keys (<<) as kustomize's YAML reads them, so no entry hides from this review.
      kustomization = parse(await readFile(resolve(root, file), "utf8"), { merge: true });
    } catch (e) {
      findings.push(
        `${file} cannot be read as YAML (${e instanceof Error ? e.message.split("\n")[0] : String(e)}), so labgrader does not render it.`,
      );
      continue;
    }
    const review = reviewKustomization(file, kustomization);
    findings.push(...review.findings);
    for (const path of review.paths) {
      // Links were checked above: following one stays inside the copy.
      if (
        await stat(resolve(root, path)).then(
          (s) => s.isDirectory(),
          () => false,
        )
      )
        folders.push(path);
    }
  }
  return findings;
}

async function firstExisting(root: string, folder: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES)
    if (
      await stat(resolve(root, folder, name)).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return name;
  return undefined;
}

/**
 * kubectl's environment for `kustomize`: only PATH and a HOME of its own (no credentials, git or
 * kubectl configuration of ours), and no proxy settings; git, should it ever run, asks nothing
 * and reads no system configuration.
 */
export function kustomizeEnv(path: string | undefined, home: string): Record<string, string> {
  return {
    ...(path ? { PATH: path } : {}),
    HOME: home,
    XDG_CONFIG_HOME: home,
    XDG_CACHE_HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    LANG: "C",
  };
}
