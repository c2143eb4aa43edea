import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export interface FileDigest {
  /** Path relative to the folder that was hashed, with forward slashes. */
  path: string;
  sha256: string;
}

export interface NodeImageInputs {
  /** Every pinned version that ends up in the image (Kubernetes, kind, etcd, CoreDNS, …). */
  versions: Record<string, string>;
  /** The node image's tag: the same inputs under another tag are another image. */
  tag: string;
  /** Build facts that live in code rather than in files (recipe revisions, package pins). */
  recipe: Record<string, string>;
  /** The files that shape the image: grader/toolchain/kind/** and the crictl stand-in's source. */
  files: FileDigest[];
}

/** JSON with object keys sorted, so equal inputs give equal text whatever order they were built in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The node image's cache key: changes exactly when an input that could change the image does. */
export function nodeImageKey(inputs: NodeImageInputs): string {
  const files = [...inputs.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return createHash("sha256")
    .update(canonical({ ...inputs, files }))
    .digest("hex")
    .slice(0, 16);
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Digests of every file below `dir`, named `prefix/relative-path`. */
export function digestTree(dir: string, prefix: string): FileDigest[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const full = join(e.parentPath, e.name);
      return { path: `${prefix}/${relative(dir, full).split("\\").join("/")}`, sha256: sha256(readFileSync(full)) };
    });
}
