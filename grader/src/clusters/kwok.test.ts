import { describe, expect, it } from "vitest";
import { exitedComponents, kwokctlConfiguration, lastKlogError } from "./kwok.ts";

describe("kwokctlConfiguration", () => {
  const config = JSON.parse(kwokctlConfiguration([1, 2, 3, 4, 5, 6])) as Record<string, unknown>;

  it("puts every component on loopback, on its reserved port", () => {
    expect(config.options).toEqual({
      bindAddress: "127.0.0.1",
      etcdPeerPort: 1,
      etcdPort: 2,
      kubeApiserverPort: 3,
      kwokControllerPort: 4,
      kubeControllerManagerPort: 5,
      kubeSchedulerPort: 6,
    });
  });

  it("runs the controller-manager and scheduler without leader election (a lost lease would end them for good), and etcd without fsync (the cluster is thrown away)", () => {
    expect(config.componentsPatches).toEqual([
      { name: "kube-controller-manager", extraArgs: [{ key: "leader-elect", value: "false" }] },
      { name: "kube-scheduler", extraArgs: [{ key: "leader-elect", value: "false" }] },
      { name: "etcd", extraArgs: [{ key: "unsafe-no-fsync", value: "true" }] },
    ]);
  });
});

describe("exitedComponents", () => {
  const started = [
    { component: "etcd", pid: 10, startTicks: "100" },
    { component: "kube-controller-manager", pid: 11, startTicks: "101" },
    { component: "kube-scheduler", pid: 12, startTicks: "102" },
  ];
  it.each([
    { name: "all running", running: [10, 11, 12], problems: [] },
    { name: "the controller-manager gone", running: [10, 12], problems: ["its kube-controller-manager exited"] },
    {
      name: "all gone",
      running: [],
      problems: ["its etcd exited", "its kube-controller-manager exited", "its kube-scheduler exited"],
    },
  ])("$name", ({ running, problems }) => {
    expect(exitedComponents(started, (p) => running.includes(p.pid))).toEqual(problems);
  });
});

describe("lastKlogError", () => {
  it.each([
    {
      name: "the last line, an error, without klog's header",
      log: 'E1205 19:57:19.480157   18757 options.go:205] The manifest file is empty, ignoring.\nI1205 19:57:19.504734   18757 controllermanager.go:204] "Starting" version="v1.36.3"\nE1205 19:57:29.5 18757 controllermanager.go:300] "Error starting controllers" err="failed to wait for apiserver being healthy: timed out"\n',
      error: '"Error starting controllers" err="failed to wait for apiserver being healthy: timed out"',
    },
    {
      name: "a fatal line",
      log: "F1205 20:00:00.000000   42 namespaced_resources_deleter.go:169] Unable to get any supported resources from server\n",
      error: "Unable to get any supported resources from server",
    },
    {
      name: "killed while working: an earlier error is no reason",
      log: 'E1205 19:57:19.480157   18757 options.go:205] The manifest file is empty, ignoring.\nI1205 19:57:19.504734   18757 controllermanager.go:204] "Starting"\n',
      error: undefined,
    },
  ])("$name", ({ log, error }) => {
    expect(lastKlogError(log)).toBe(error);
  });

  it("is named beside the component that exited", () => {
    expect(
      exitedComponents(
        [{ component: "kube-controller-manager", pid: 1, startTicks: "1" }],
        () => false,
        () => "Unable to get any supported resources from server",
      ),
    ).toEqual(["its kube-controller-manager exited (its log: Unable to get any supported resources from server)"]);
  });
});
