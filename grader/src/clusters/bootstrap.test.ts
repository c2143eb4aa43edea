import { describe, expect, it } from "vitest";
import { kwokBootstrapObjects, STORAGE_CLASS, VOLUME_POOL_SIZE } from "./bootstrap.ts";

describe("kwok bootstrap objects", () => {
  const objects = kwokBootstrapObjects();
  it("has a Node that kwok manages, with room for pods", () => {
    const node = objects.find((o) => o.kind === "Node")!;
    expect(node.metadata.annotations?.["kwok.x-k8s.io/node"]).toBe("fake");
    expect((node as unknown as { status: { allocatable: Record<string, string> } }).status.allocatable.pods).toBe(
      "256",
    );
  });
  it("has a default StorageClass and a pool of volumes in it", () => {
    const sc = objects.find((o) => o.kind === "StorageClass")!;
    expect(sc.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"]).toBe("true");
    const pvs = objects.filter((o) => o.kind === "PersistentVolume");
    expect(pvs).toHaveLength(VOLUME_POOL_SIZE);
    expect(new Set(pvs.map((p) => p.metadata.name)).size).toBe(VOLUME_POOL_SIZE);
    expect(
      pvs.every(
        (p) => (p as unknown as { spec: { storageClassName: string } }).spec.storageClassName === STORAGE_CLASS,
      ),
    ).toBe(true);
  });
});
