import { describe, expect, it } from "vitest";
import type { KubeObject } from "../engine/trace.ts";
import { managerContainerStatus, podManagerArgs } from "./pod-bridge.ts";

const deployment = (args: unknown): KubeObject =>
  ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "controller-manager", namespace: "system" },
    spec: {
      template: {
        spec: {
          containers: [
            { name: "sidecar", args: ["--x"] },
            { name: "manager", args },
          ],
        },
      },
    },
  }) as KubeObject;

describe("a pod's manager arguments", () => {
  it("keeps the manager container's flags, leader election included, without the listeners in either spelling", () => {
    expect(
      podManagerArgs(
        deployment([
          "--leader-elect",
          "--health-probe-bind-address=:8081",
          "--metrics-bind-address",
          ":8443",
          "-metrics-bind-address=:9443",
          "--zap-log-level=debug",
        ]),
        "manager",
      ),
    ).toEqual(["--leader-elect", "--zap-log-level=debug"]);
  });

  it("has none when the container has none, or args that are not a list of strings", () => {
    expect(podManagerArgs(deployment(undefined), "manager")).toEqual([]);
    expect(podManagerArgs(deployment("--leader-elect"), "manager")).toEqual([]);
    expect(podManagerArgs(deployment(["--leader-elect", 3]), "manager")).toEqual(["--leader-elect"]);
    expect(podManagerArgs(deployment(["--leader-elect"]), "other")).toEqual([]);
  });
});

describe("the manager container's status, as the kubelet stand-in writes it", () => {
  const kwoks = [
    { name: "sidecar", ready: true, restartCount: 0, state: { running: { startedAt: "t0" } } },
    {
      name: "manager",
      ready: true,
      restartCount: 0,
      image: "controller:latest",
      state: { running: { startedAt: "t0" } },
    },
  ];

  it("counts a restart, says how the manager ended and that it waits to start again, and leaves other containers be", () => {
    const after = managerContainerStatus(kwoks, "manager", "t1", {
      restartCount: 1,
      exit: { code: 2, signal: null, at: 3000 },
      backOffS: 1,
    });
    expect(after.find((c) => c.name === "sidecar")).toEqual(kwoks[0]);
    expect(after.find((c) => c.name === "manager")).toEqual({
      name: "manager",
      image: "controller:latest",
      restartCount: 1,
      ready: false,
      started: false,
      lastState: { terminated: { exitCode: 2, reason: "Error", finishedAt: "t1" } },
      state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 1s restarting failed container=manager" } },
    });
  });

  it("gives a manager killed by a signal the exit code a container gets (128 + the signal)", () => {
    const [manager] = managerContainerStatus([], "manager", "t1", {
      restartCount: 2,
      exit: { code: null, signal: "SIGKILL", at: 3000 },
      backOffS: 2,
    });
    expect(manager).toMatchObject({ restartCount: 2, lastState: { terminated: { exitCode: 137 } } });
  });

  it("shows a started-again manager running and ready, its restarts kept", () => {
    const crashed = managerContainerStatus(kwoks, "manager", "t1", {
      restartCount: 1,
      exit: { code: 1, signal: null, at: 3000 },
      backOffS: 1,
    });
    const running = managerContainerStatus(crashed, "manager", "t2", { restartCount: 1 });
    expect(running.find((c) => c.name === "manager")).toMatchObject({
      restartCount: 1,
      ready: true,
      started: true,
      state: { running: { startedAt: "t2" } },
      lastState: { terminated: { exitCode: 1 } },
    });
  });
});
