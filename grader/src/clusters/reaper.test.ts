import { describe, expect, it } from "vitest";
import type { ClusterProvider, ClusterRecord } from "./provider.ts";
import { reapOrphans } from "./reaper.ts";

function record(name: string, createdAt: string, pid: number): ClusterRecord {
  return {
    name,
    provider: "kwok",
    kubeconfigPath: `/x/${name}`,
    createdAt,
    owner: { pid, host: "h", startTicks: "1" },
    labels: {},
  };
}

function fakeProvider(records: ClusterRecord[]): ClusterProvider & { deleted: string[] } {
  const deleted: string[] = [];
  return {
    name: "kwok",
    operatorMode: "host",
    deleted,
    create: () => Promise.reject(new Error("not used")),
    list: async () => records.filter((r) => !deleted.includes(r.name)),
    delete: async (name) => {
      deleted.push(name);
    },
  };
}

describe("reapOrphans", () => {
  const now = new Date("2026-01-01T12:00:00Z");
  it.each([
    { name: "old and owner gone", createdAt: "2026-01-01T10:00:00Z", pid: 1, reaped: true },
    { name: "old but owner alive", createdAt: "2026-01-01T10:00:00Z", pid: 2, reaped: false },
    { name: "young and owner gone", createdAt: "2026-01-01T11:59:00Z", pid: 1, reaped: false },
  ])("$name", async ({ createdAt, pid, reaped }) => {
    const provider = fakeProvider([record("lg-a", createdAt, pid)]);
    const result = await reapOrphans(provider, { olderThanMs: 30 * 60_000, now, isOwnerAlive: (o) => o.pid === 2 });
    expect(result).toEqual(reaped ? ["lg-a"] : []);
    expect(provider.deleted).toEqual(reaped ? ["lg-a"] : []);
  });

  it("a cluster that cannot be deleted is logged and the other orphans still go", async () => {
    const provider = fakeProvider([
      record("lg-a", "2026-01-01T10:00:00Z", 1),
      record("lg-b", "2026-01-01T10:00:00Z", 1),
    ]);
    const deleteOne = provider.delete;
    provider.delete = async (name) => {
      if (name === "lg-a") throw new Error("its files are gone");
      await deleteOne(name);
    };
    const log: string[] = [];
    const result = await reapOrphans(provider, {
      olderThanMs: 0,
      now,
      isOwnerAlive: () => false,
      log: (l) => log.push(l),
    });
    expect(result).toEqual(["lg-b"]);
    expect(provider.deleted).toEqual(["lg-b"]);
    expect(log.some((l) => l.includes("could not reap lg-a") && l.includes("its files are gone"))).toBe(true);
  });
});
