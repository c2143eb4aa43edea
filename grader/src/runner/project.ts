import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { KubeObjectSchema, type KubeObject } from "../engine/trace.ts";

/** Where a kubebuilder project keeps what the grader installs: generated CRDs and the generated manager role. */
export const CRD_DIR = "config/crd/bases";
export const ROLE_FILE = "config/rbac/role.yaml";

export async function readManifests(file: string): Promise<KubeObject[]> {
  const text = await readFile(file, "utf8");
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as unknown)
    .filter((doc) => doc !== null && doc !== undefined)
    .map((doc, i) => {
      const parsed = KubeObjectSchema.safeParse(doc);
      if (!parsed.success)
        throw new Error(`${file}: document ${i + 1} is not a Kubernetes object: ${parsed.error.issues[0]?.message}`);
      return parsed.data;
    });
}

export async function readCrds(projectDir: string): Promise<KubeObject[]> {
  const dir = join(projectDir, CRD_DIR);
  const files = (await readdir(dir).catch(() => [] as string[]))
    .filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml")
    .sort();
  if (files.length === 0) throw new Error(`${CRD_DIR} holds no CRD manifests (run \`make manifests\`)`);
  const objects = (await Promise.all(files.map((f) => readManifests(join(dir, f))))).flat();
  return objects.filter((o) => o.kind === "CustomResourceDefinition");
}

/** The ClusterRole controller-gen wrote from the project's RBAC markers. */
export async function readManagerRole(projectDir: string): Promise<KubeObject> {
  const roles = (await readManifests(join(projectDir, ROLE_FILE))).filter((o) => o.kind === "ClusterRole");
  const role = roles[0];
  if (!role) throw new Error(`${ROLE_FILE} holds no ClusterRole (run \`make manifests\`)`);
  return role;
}
