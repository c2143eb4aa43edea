import { describe, expect, it } from "vitest";
import { evaluateCheck } from "./registry.ts";
import { createTraceBuilder, kubeObject } from "./trace-builder.ts";

const backup = (phase: string) => kubeObject("Backup", "orders-backup", { status: { phase } });
const db = (phase: string) => kubeObject("Database", "orders", { status: { phase } });
const completes = {
  type: "expect",
  params: {
    object: { kind: "Backup", name: "orders-backup" },
    expr: 'self.?status.?phase.orValue("") == "Completed"',
    expected: "phase Completed",
  },
  stuckAfterMs: 30_000,
  waitsFor: [{ object: { kind: "Database", name: "orders" } }],
};

describe("a check that stops waiting on a record standing still", () => {
  it("fails once nothing it reads has changed for its stuckAfter, long before its timeout", () => {
    const t = createTraceBuilder().at(1_000).add(backup("InProgress")).add(db("Ready"));
    expect(evaluateCheck(completes, t.context({ now: 20_000 }))).toEqual({ status: "pending", recheckAt: 31_000 });
    const verdict = evaluateCheck(completes, t.context({ now: 31_000 }));
    expect(verdict.status).toBe("failed");
    if (verdict.status === "failed")
      expect(verdict.message).toMatch(/nothing it depends on, nor anything in its namespace, changed for 30\.0 s/);
  });

  it("keeps waiting while what it depends on still moves (a slow Database's transitions)", () => {
    const t = createTraceBuilder()
      .at(0)
      .add(backup("Pending"))
      .add(db("Provisioning"))
      .at(15_000)
      .modify(db("Configuring"))
      .at(30_000)
      .modify(db("Deploying"));
    expect(evaluateCheck(completes, t.context({ now: 45_000 })).status).toBe("pending");
  });

  it("keeps waiting while its namespace is busy (a real pod starting: Events of the scheduler and the kubelet)", () => {
    const t = createTraceBuilder().at(0).add(backup("Pending")).add(db("Deploying"));
    for (const [at, reason] of [
      [20_000, "Scheduled"],
      [40_000, "Pulled"],
      [60_000, "Started"],
    ] as const)
      t.at(at).event({
        api: "core/v1",
        type: "Normal",
        reason,
        message: `${reason} orders-0`,
        regarding: { kind: "Pod", name: "orders-0", namespace: "ns" },
      });
    expect(evaluateCheck(completes, t.context({ now: 80_000 })).status).toBe("pending");
    expect(evaluateCheck(completes, t.context({ now: 91_000 })).status).toBe("failed");
  });

  it("does not count an Event that only repeats an earlier one (a controller retrying against a quota) as news", () => {
    const t = createTraceBuilder().at(0).add(backup("Pending")).add(db("Deploying"));
    for (const at of [5_000, 15_000, 25_000, 35_000, 45_000])
      t.at(at).event({
        api: "core/v1",
        type: "Warning",
        reason: "FailedCreate",
        message: "create Pod orders-0 in StatefulSet orders failed: exceeded quota",
        regarding: { kind: "StatefulSet", name: "orders", namespace: "ns" },
      });
    expect(evaluateCheck(completes, t.context({ now: 34_000 })).status).toBe("pending");
    expect(evaluateCheck(completes, t.context({ now: 36_000 })).status).toBe("failed");
  });

  describe("a pod the platform is still at work on keeps its namespace moving, however quiet", () => {
    const pod = (status: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
      kubeObject("Pod", "orders-0", { namespace: "ns", status, metadata }, "v1");
    const quietWith = (status: Record<string, unknown>, metadata?: Record<string, unknown>) =>
      createTraceBuilder().at(0).add(backup("Pending")).add(db("Deploying")).at(5_000).add(pod(status, metadata));
    const running = (ready: boolean) => ({
      phase: "Running",
      containerStatuses: [{ name: "postgres", ready, state: { running: { startedAt: "t" } } }],
    });
    const waiting = (reason: string) => ({
      phase: "Pending",
      containerStatuses: [{ name: "postgres", ready: false, state: { waiting: { reason } } }],
    });

    it.each([
      ["waiting for a node or its volume (a busy scheduler, a slow provisioner)", { phase: "Pending" }],
      ["scheduled, its containers being created", waiting("ContainerCreating")],
      [
        "its init containers running",
        { phase: "Pending", initContainerStatuses: [{ name: "init", ready: false, state: { running: {} } }] },
      ],
      ["running, not yet ready (a database initialising, probes not yet passed)", running(false)],
    ])("%s", (_, status) => {
      const t = quietWith(status);
      expect(evaluateCheck(completes, t.context({ now: 120_000 })).status).toBe("pending");
      // Once the pod is ready the quiet counts again, from the pod's last change.
      t.at(130_000).modify(pod(running(true)));
      expect(evaluateCheck(completes, t.context({ now: 150_000 })).status).toBe("pending");
      expect(evaluateCheck(completes, t.context({ now: 160_000 })).status).toBe("failed");
    });

    it("being stopped", () => {
      expect(
        evaluateCheck(
          completes,
          quietWith(running(true), { deletionTimestamp: "2026-01-01T00:00:00Z" }).context({ now: 120_000 }),
        ).status,
      ).toBe("pending");
    });

    it.each([
      [
        "unschedulable",
        { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }] },
      ],
      ["an image that cannot be pulled", waiting("ImagePullBackOff")],
      [
        "a container crashing",
        {
          phase: "Running",
          containerStatuses: [{ name: "postgres", ready: false, state: { waiting: { reason: "CrashLoopBackOff" } } }],
        },
      ],
      ["a container misconfigured", waiting("CreateContainerConfigError")],
      ["ready", running(true)],
      ["finished", { phase: "Failed" }],
    ])("but not one that is %s", (_, status) => {
      const t = quietWith(status);
      expect(evaluateCheck(completes, t.context({ now: 34_000 })).status).toBe("pending");
      expect(evaluateCheck(completes, t.context({ now: 35_000 })).status).toBe("failed");
    });

    it("nor one in another namespace, or one deleted", () => {
      const elsewhere = createTraceBuilder()
        .at(0)
        .add(backup("Pending"))
        .add(db("Deploying"))
        .at(5_000)
        .add(kubeObject("Pod", "helper", { namespace: "local-path-storage", status: { phase: "Pending" } }, "v1"));
      expect(evaluateCheck(completes, elsewhere.context({ now: 31_000 })).status).toBe("failed");
      const gone = quietWith({ phase: "Pending" }).delete(pod({ phase: "Pending" }));
      expect(evaluateCheck(completes, gone.context({ now: 35_000 })).status).toBe("failed");
    });
  });

  describe("at the deadline", () => {
    const pod = (status: Record<string, unknown>) => kubeObject("Pod", "orders-0", { namespace: "ns", status }, "v1");
    const endingWith = (status?: Record<string, unknown>) => {
      const t = createTraceBuilder().at(0).add(backup("Pending")).add(db("Deploying"));
      if (status) t.at(5_000).add(pod(status));
      return evaluateCheck(completes, t.context({ now: 150_000, final: true }));
    };
    const scheduled = [{ type: "PodScheduled", status: "True" }];

    it.each([
      ["waits for a node or a volume", { phase: "Pending" }, "orders-0 (waiting for a node or a volume)"],
      [
        "has its containers created",
        { phase: "Pending", conditions: scheduled },
        "orders-0 (having its containers created)",
      ],
    ])(
      "a pod that still %s makes the check not gradable, not failed: the host was too slow to judge",
      (_, status, named) => {
        const verdict = endingWith(status);
        expect(verdict.status).toBe("undecidable");
        if (verdict.status === "undecidable") {
          expect(verdict.reason).toContain(`still starting pods in ns: ${named}`);
          expect(verdict.reason).toContain("did not");
        }
      },
    );

    it.each([
      [
        "whose containers run but never became ready (the operator's probe, or its database)",
        { phase: "Running", conditions: scheduled, containerStatuses: [{ ready: false, state: { running: {} } }] },
      ],
      [
        "that cannot pull its image",
        {
          phase: "Pending",
          conditions: scheduled,
          containerStatuses: [{ ready: false, state: { waiting: { reason: "ErrImagePull" } } }],
        },
      ],
      [
        "that is ready",
        { phase: "Running", conditions: scheduled, containerStatuses: [{ ready: true, state: { running: {} } }] },
      ],
    ])("a pod %s leaves the failure the operator's", (_, status) => {
      expect(endingWith(status).status).toBe("failed");
    });

    describe("a pod whose volume's Secret the kubelet could not find", () => {
      const creating = { phase: "Pending", conditions: scheduled };
      const failedMount = {
        api: "core/v1" as const,
        type: "Warning",
        reason: "FailedMount",
        message: 'MountVolume.SetUp failed for volume "credentials" : secret "orders-auth" not found',
        regarding: { kind: "Pod", name: "orders-0", namespace: "ns" },
      };
      const endingAfterFailedMount = (secret?: string) => {
        const t = createTraceBuilder().at(0).add(backup("Pending")).add(db("Deploying"));
        if (secret) t.at(1_000).add(kubeObject("Secret", secret, { namespace: "ns" }, "v1"));
        t.at(5_000).add(pod(creating)).at(6_000).event(failedMount);
        return evaluateCheck(completes, t.context({ now: 150_000, final: true }));
      };

      it("leaves the failure the operator's while no such Secret exists (a wrong name, one never made)", () => {
        expect(endingAfterFailedMount().status).toBe("failed");
        expect(endingAfterFailedMount("orders-credentials").status).toBe("failed");
      });

      it("is the platform's still once the Secret exists (the kubelet mounts it on its next try)", () => {
        expect(endingAfterFailedMount("orders-auth").status).toBe("undecidable");
      });
    });

    it("and so does a namespace without pods", () => {
      expect(endingWith().status).toBe("failed");
    });

    describe("a pod whose containers run but are not yet ready, on a host whose CPU was contended", () => {
      const notReady = {
        phase: "Running",
        conditions: scheduled,
        containerStatuses: [{ ready: false, state: { running: {} } }],
      };
      /** PSI readings every 5 s over the check's 150 s, some task waiting for a CPU `share` of the time. */
      const readings = (share: number) =>
        Array.from({ length: 31 }, (_, i) => ({ at: i * 5_000, cpuWaitedMs: 1_000_000 + i * 5_000 * share }));
      const endingOn = (share: number | undefined, status?: Record<string, unknown>) => {
        const t = createTraceBuilder().at(0).add(backup("Pending")).add(db("Deploying"));
        if (status) t.at(5_000).add(pod(status));
        const trace = { ...t.trace(), ...(share === undefined ? {} : { host: readings(share) }) };
        return evaluateCheck(completes, t.context({ now: 150_000, final: true, trace }));
      };

      it("makes the check not gradable when some task waited for a CPU most of the window", () => {
        const verdict = endingOn(0.7, notReady);
        expect(verdict.status).toBe("undecidable");
        if (verdict.status === "undecidable") {
          expect(verdict.reason).toContain("pods in ns were still starting: orders-0 (running, not yet ready)");
          expect(verdict.reason).toContain("a CPU 70% of the check's 150 s");
          expect(verdict.reason).toContain("did not");
        }
      });

      it.each([
        ["the host had CPU to spare", 0.2, notReady],
        ["the host's pressure was not read (no PSI)", undefined, notReady],
        [
          "the pod cannot go on (crash-looping)",
          0.9,
          {
            phase: "Running",
            conditions: scheduled,
            containerStatuses: [{ ready: false, state: { waiting: { reason: "CrashLoopBackOff" } } }],
          },
        ],
        ["there is no pod", 0.9, undefined],
      ])("leaves the failure the operator's when %s", (_, share, status) => {
        expect(endingOn(share, status).status).toBe("failed");
      });
    });
  });

  it("still passes the moment it holds", () => {
    const t = createTraceBuilder().at(0).add(db("Ready")).at(50_000).add(backup("Completed"));
    expect(evaluateCheck(completes, t.context({ now: 90_000 })).status).toBe("passed");
  });
});
