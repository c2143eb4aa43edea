import { describe, expect, it } from "vitest";
import type { KubeObject } from "../engine/trace.ts";
import { podManagerArgs } from "./pod-bridge.ts";

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
