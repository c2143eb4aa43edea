import { describe, expect, it } from "vitest";
import { exitedComponents, kwokctlConfiguration } from "./kwok.ts";

describe("kwokctlConfiguration", () => {
  const config = JSON.parse(kwokctlConfiguration([1, 2, 3, 4, 5, 6])) as Record<string, unknown>;

  it("puts every component on loopback, on its reserved port", () => {
    expect(config.options).toEqual({ bindAddress: "127.0.0.1", etcdPeerPort: 1, etcdPort: 2, kubeApiserverPort: 3, kwokControllerPort: 4, kubeControllerManagerPort: 5, kubeSchedulerPort: 6 });
  });

  it("runs the controller-manager and scheduler without leader election (a lost lease would end them for good)", () => {
    expect(config.componentsPatches).toEqual([
      { name: "kube-controller-manager", extraArgs: [{ key: "leader-elect", value: "false" }] },
      { name: "kube-scheduler", extraArgs: [{ key: "leader-elect", value: "false" }] },
    ]);
  });
});

describe("exitedComponents", () => {
  const started = [
    { component: "etcd", pid: 10, ticks: "100" },
    { component: "kube-controller-manager", pid: 11, ticks: "101" },
    { component: "kube-scheduler", pid: 12, ticks: "102" },
  ];
  it.each([
    { name: "all running", running: [10, 11, 12], problems: [] },
    { name: "the controller-manager gone", running: [10, 12], problems: ["its kube-controller-manager exited"] },
    { name: "all gone", running: [], problems: ["its etcd exited", "its kube-controller-manager exited", "its kube-scheduler exited"] },
  ])("$name", ({ running, problems }) => {
    expect(exitedComponents(started, (p) => running.includes(p.pid))).toEqual(problems);
  });
});
