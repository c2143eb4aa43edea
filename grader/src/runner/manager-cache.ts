import { createHash } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { join, relative } from "node:path";

/**
 * Managers we built from our own code (the reference and its variants), kept by what went into
 * them: Go's build cache keeps packages but not linked executables, so every grade of the same
 * operator would link it again (seconds of a core each, ~90 times in a validate). Never used for a
 * learner's project: that is built in its sandbox every time.
 */
export interface ManagerCache {
  /** The cached manager for these inputs, copied to `binary`; false when there is none. */
  restore(key: string, binary: string): Promise<boolean>;
  /** Keeps a freshly built manager, then drops the least recently used ones above the size limit. */
  store(key: string, binary: string): Promise<void>;
}

/** What a build's output depends on, beside the files: the Go release and the settings that change code generation. */
export interface BuildInputs {
  projectDir: string;
  /** `go build -overlay` replacements: project-relative path -> file. */
  overlay?: Record<string, string>;
  goVersion: string;
  args: string[];
  env: Record<string, string | undefined>;
}

const ENV_THAT_CHANGES_CODE = ["GOFLAGS", "GOOS", "GOARCH", "GOAMD64", "GOEXPERIMENT", "CGO_ENABLED"];

async function goSources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && (/\.go$/.test(e.name) || e.name === "go.mod" || e.name === "go.sum"))
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((path) => !/(^|\/)(bin|testdata|vendor)\//.test(path) && !path.endsWith("_test.go"))
    .sort();
}

/** The inputs' digest: equal exactly when the same Go, settings and sources (overlay applied) go in. */
export async function buildKey(inputs: BuildInputs): Promise<string> {
  const hash = createHash("sha256");
  const field = (name: string, value: string | Buffer) => {
    hash.update(`${name}\0${value.length}\0`);
    hash.update(value);
  };
  field("go", inputs.goVersion);
  field("args", inputs.args.join("\0"));
  for (const name of ENV_THAT_CHANGES_CODE) field(`env ${name}`, inputs.env[name] ?? "");
  const overlay = inputs.overlay ?? {};
  const sources = await goSources(inputs.projectDir);
  for (const path of sources) field(`file ${path}`, await readFile(overlay[path] ?? join(inputs.projectDir, path)));
  // A file only the overlay has (a variant's new file); one that replaces a source is read above.
  for (const [path, file] of Object.entries(overlay).sort(([a], [b]) => (a < b ? -1 : 1)))
    if (!sources.includes(path)) field(`overlay ${path}`, await readFile(file));
  return hash.digest("hex").slice(0, 32);
}

export function createManagerCache(dir: string, maxBytes: number): ManagerCache {
  const entry = (key: string) => join(dir, key, "manager");

  async function prune(): Promise<void> {
    // Names with a dot first are stores still being written.
    const keys = (await readdir(dir).catch(() => [] as string[])).filter((k) => !k.startsWith("."));
    const entries = (
      await Promise.all(
        keys.map(async (key) => {
          const info = await stat(entry(key)).catch(() => undefined);
          return info ? { key, size: info.size, used: info.mtimeMs } : undefined;
        }),
      )
    )
      .filter((e) => e !== undefined)
      .sort((a, b) => b.used - a.used);
    let kept = 0;
    for (const e of entries) {
      kept += e.size;
      if (kept > maxBytes) await rm(join(dir, e.key), { recursive: true, force: true });
    }
  }

  return {
    async restore(key, binary) {
      try {
        await copyFile(entry(key), binary);
      } catch {
        return false;
      }
      const now = new Date();
      await utimes(entry(key), now, now).catch(() => undefined);
      return true;
    },
    async store(key, binary) {
      // Written beside, then renamed into place: a reader never sees half a manager, and of two
      // builds of the same inputs at once the second rename finds the first and is dropped.
      const partial = join(dir, `.${key}.${process.pid}.${Date.now()}`);
      await mkdir(partial, { recursive: true });
      try {
        await copyFile(binary, join(partial, "manager"));
        await rename(partial, join(dir, key)).catch(() => undefined);
      } finally {
        await rm(partial, { recursive: true, force: true });
      }
      await prune();
    },
  };
}
