import { describe, expect, it } from "vitest";
import { unjudged, watchCluster } from "./cluster-watch.ts";

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise((r) => setTimeout(() => r("still waiting"), ms))]);

describe("watchCluster", () => {
  it("settles once the cluster reports a problem, naming it", async () => {
    let problems: string[] = [];
    const watch = watchCluster(async () => problems, 10);
    expect(await within(watch.broken, 60)).toBe("still waiting");
    expect(await watch.check()).toBeUndefined();
    problems = ["its kube-controller-manager exited"];
    expect(await within(watch.broken, 1_000)).toBe(
      "the cluster broke during the grade: its kube-controller-manager exited",
    );
    // Once broken, always broken: a component that exited does not come back.
    problems = [];
    expect(await watch.check()).toBe("the cluster broke during the grade: its kube-controller-manager exited");
    watch.stop();
  });

  it("finds a problem on a last look between polls", async () => {
    let problems: string[] = [];
    const watch = watchCluster(async () => problems, 60_000);
    problems = ["its etcd exited", "its kube-apiserver exited"];
    expect(await watch.check()).toBe("the cluster broke during the grade: its etcd exited, its kube-apiserver exited");
    expect(await within(watch.broken, 100)).toBe(
      "the cluster broke during the grade: its etcd exited, its kube-apiserver exited",
    );
    watch.stop();
  });

  it("takes a look that itself fails for no problem, and stops looking when stopped", async () => {
    let looks = 0;
    const watch = watchCluster(async () => {
      looks++;
      throw new Error("pid folder gone");
    }, 10);
    expect(await within(watch.broken, 80)).toBe("still waiting");
    watch.stop();
    const seen = looks;
    expect(seen).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(looks).toBe(seen);
  });
});

describe("unjudged", () => {
  it.each([
    ["failed", "error", "Not gradable: the cluster broke during the grade: its kube-scheduler exited."],
    ["passed", "passed", "ok"],
    ["error", "error", "ok"],
  ])("turns a %s check into %s", (status, expected, message) => {
    expect(
      unjudged({ status, message: "ok" }, "the cluster broke during the grade: its kube-scheduler exited"),
    ).toEqual({ status: expected, message });
  });
});
