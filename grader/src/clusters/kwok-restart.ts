import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { identify, type ProcessIdentity } from "../process/liveness.ts";

/**
 * Components that give up for good when the API server is not healthy within their own 10 s
 * (kube-controller-manager's start fails "failed to wait for apiserver being healthy" on a host
 * with a load of ~17), and that hold no state: started again once, they simply carry on.
 */
export const RESTARTABLE_COMPONENTS = new Set(["kube-controller-manager", "kube-scheduler"]);

/** How a component was started, as kwokctl recorded it in the cluster's kwok.yaml. */
const ComponentSpecSchema = z.object({
  name: z.string(),
  binary: z.string().min(1),
  args: z.array(z.string()).default([]),
  workDir: z.string().min(1),
});
export type ComponentSpec = z.infer<typeof ComponentSpecSchema>;

/** The component's command line from kwok.yaml (its first document, the KwokctlConfiguration). */
export function componentSpec(kwokYaml: string, component: string): ComponentSpec {
  const config = parseAllDocuments(kwokYaml)[0]?.toJS() as { components?: unknown[] } | undefined;
  const spec = (config?.components ?? [])
    .map((c) => ComponentSpecSchema.safeParse(c))
    .find((c) => c.success && c.data.name === component);
  if (!spec?.success) throw new Error(`kwok.yaml names no ${component} to start again`);
  return spec.data;
}

/**
 * Starts a component of a kwokctl cluster again as kwokctl's binary runtime started it: detached,
 * its output appended to its log, its pid in its pid file (so `kwokctl delete cluster` and the
 * reaper stop this process too).
 */
export async function restartComponent(
  clusterDir: string,
  component: string,
  env: Record<string, string | undefined>,
): Promise<ProcessIdentity> {
  const spec = componentSpec(await readFile(join(clusterDir, "kwok.yaml"), "utf8"), component);
  const log = openSync(join(clusterDir, "logs", `${component}.log`), "a");
  try {
    const child = spawn(spec.binary, spec.args, {
      cwd: spec.workDir,
      env,
      detached: true,
      stdio: ["ignore", log, log],
    });
    child.on("error", () => undefined);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${component} again (${spec.binary})`);
    child.unref();
    await writeFile(join(clusterDir, "pids", `${component}.pid`), String(pid));
    return identify(pid);
  } finally {
    closeSync(log);
  }
}
