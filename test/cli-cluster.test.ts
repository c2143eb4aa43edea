import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isAlive } from "../grader/src/process/liveness.ts";
import { labgrader } from "./support/cli.ts";
import { testConfig } from "./support/env.ts";

/** Runs a labgrader command that must succeed. */
async function cli(...args: string[]): Promise<{ stdout: string }> {
  const run = await labgrader(args, 180_000);
  if (run.code !== 0) throw new Error(`labgrader ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return run;
}

describe("labgrader cluster", () => {
  it("creates a kwok cluster, lists it, and deletes it leaving no process behind", async () => {
    const { stdout } = await cli("cluster", "create", "--provider", "kwok", "--json");
    const created = JSON.parse(stdout) as { name: string; kubeconfigPath: string };
    expect(created.name).toMatch(/^lg-[0-9a-f]{8}$/);
    expect(readFileSync(created.kubeconfigPath, "utf8")).toContain("server: https://");

    const pidDir = `${testConfig().cacheDir}/kwok/clusters/${created.name}/pids`;
    const pids = readdirSync(pidDir).map((f) => Number(readFileSync(`${pidDir}/${f}`, "utf8")));
    expect(pids.filter(isAlive)).toHaveLength(pids.length);

    const listed = JSON.parse((await cli("cluster", "list", "--json")).stdout) as { name: string }[];
    expect(listed.map((c) => c.name)).toContain(created.name);

    await cli("cluster", "delete", created.name);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(pidDir)).toBe(false);
    const after = JSON.parse((await cli("cluster", "list", "--json")).stdout) as { name: string }[];
    expect(after.map((c) => c.name)).not.toContain(created.name);
  });

  it("reaps a cluster whose creating process is gone", async () => {
    // The CLI process that created this cluster has exited by the time create returns.
    const { stdout } = await cli("cluster", "create", "--json");
    const { name } = JSON.parse(stdout) as { name: string };
    const reaped = (await cli("cluster", "reap", "--older-than-minutes", "0")).stdout.split("\n");
    expect(reaped).toContain(name);
    const after = JSON.parse((await cli("cluster", "list", "--json")).stdout) as { name: string }[];
    expect(after.map((c) => c.name)).not.toContain(name);
  });
});
