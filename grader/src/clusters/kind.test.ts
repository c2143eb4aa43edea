import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createKindProvider, kindCommands, parseKindClusters } from "./kind.ts";

describe("kind provider", () => {
  it.each([
    ["lg-a\nlg-b\n", ["lg-a", "lg-b"]],
    ["", []],
    ["No kind clusters found.\n", []],
    ["  lg-a  \n\n", ["lg-a"]],
  ])("parses `kind get clusters` output %j", (stdout, names) => {
    expect(parseKindClusters(stdout)).toEqual(names);
  });

  it("creates with our node image and a kubeconfig of its own, and deletes what it created", async () => {
    const calls: string[][] = [];
    const clusters = new Set<string>();
    const cacheDir = mkdtempSync(join(tmpdir(), "kind-test-"));
    const provider = createKindProvider({
      kind: "/opt/kind",
      nodeImage: "local/kind-node:v1.36.3",
      cacheDir,
      env: {},
      log: () => undefined,
      run: async (cmd, args) => {
        calls.push([cmd, ...args]);
        if (args[0] === "create") clusters.add(args[3]!);
        if (args[0] === "delete") clusters.delete(args[3]!);
        return args[0] === "get" ? [...clusters].join("\n") : "";
      },
    });
    const cluster = await provider.create({ name: "lg-test" });
    expect(calls[0]).toEqual(["/opt/kind", ...kindCommands.create("lg-test", "local/kind-node:v1.36.3", join(cacheDir, "kind", "lg-test.kubeconfig"))]);
    expect(calls[0]).toContain("--image");
    expect(cluster.kubeconfigPath).toBe(join(cacheDir, "kind", "lg-test.kubeconfig"));
    expect((await provider.list()).map((r) => r.name)).toEqual(["lg-test"]);
    await cluster.dispose();
    expect(calls.at(-1)).toEqual(["/opt/kind", "delete", "cluster", "--name", "lg-test"]);
    expect(await provider.list()).toEqual([]);
  });

  it("reports a failed create and removes what it left", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "kind-test-"));
    const calls: string[] = [];
    const provider = createKindProvider({
      kind: "kind",
      nodeImage: "img",
      cacheDir,
      env: {},
      log: () => undefined,
      run: async (_cmd, args) => {
        calls.push(args[0]!);
        if (args[0] === "create") throw new Error("docker: cannot connect");
        return "";
      },
    });
    await expect(provider.create({ name: "lg-x" })).rejects.toThrow(/while creating kind cluster lg-x/);
    expect(calls).toEqual(["create", "delete"]);
  });
});
