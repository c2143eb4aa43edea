import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { createSlotPool, type SlotWait } from "./host-slots.ts";
import { formatOwner } from "./owned-locks.ts";

const poolDir = () => mkdtempSync(join(tmpdir(), "slots-"));
const dead = { pid: 2 ** 22 + 17, startTicks: "1" };

/** Resolves once `predicate` holds, looking again every few milliseconds (bounded). */
async function until(predicate: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`never happened: ${what}`);
}

describe("host slot pools", () => {
  test("never more holders than slots; waiters are served in the order they came", async () => {
    const pool = createSlotPool({ dir: poolDir(), name: "grades", size: 2, pollMs: 50 });
    const order: string[] = [];
    const first = await pool.acquire("a");
    const second = await pool.acquire("b");
    const waits: SlotWait[] = [];
    const third = pool.acquire("c", { onWait: (w) => waits.push(w) }).then((lease) => (order.push("c"), lease));
    await until(() => waits.length > 0, "c waits");
    const fourth = pool.acquire("d").then((lease) => (order.push("d"), lease));
    await until(async () => (await pool.snapshot()).waiting.length === 2, "d queued behind c");
    expect(waits[0]).toEqual({ ahead: 0, held: 2, size: 2 });
    const snapshot = await pool.snapshot();
    expect(snapshot.held.map((h) => h.label).sort()).toEqual(["a", "b"]);
    expect(snapshot.held.every((h) => h.pid === process.pid)).toBe(true);

    await first.release();
    const c = await third;
    expect(order).toEqual(["c"]);
    await second.release();
    const d = await fourth;
    expect(order).toEqual(["c", "d"]);
    await Promise.all([c.release(), d.release()]);
    expect(await pool.snapshot()).toEqual({ name: "grades", size: 2, held: [], waiting: [] });
  });

  test("a later waiter does not overtake an earlier one when a single slot frees", async () => {
    const pool = createSlotPool({ dir: poolDir(), name: "builds", size: 1, pollMs: 20 });
    const holder = await pool.acquire("holder");
    const served: string[] = [];
    const waiting: Promise<void>[] = [];
    for (const label of ["w1", "w2", "w3"]) {
      waiting.push(
        pool.acquire(label).then(async (lease) => {
          served.push(label);
          await lease.release();
        }),
      );
      await until(async () => (await pool.snapshot()).waiting.length === waiting.length, `${label} queued`);
    }
    await holder.release();
    await Promise.all(waiting);
    expect(served).toEqual(["w1", "w2", "w3"]);
  });

  test("a slot held by a process that died is taken back", async () => {
    const dir = poolDir();
    mkdirSync(join(dir, "held"), { recursive: true });
    writeFileSync(join(dir, "held", "0"), formatOwner(dead, "crashed grade"));
    const pool = createSlotPool({ dir, name: "grades", size: 1, pollMs: 20 });
    const lease = await pool.acquire("next");
    expect((await pool.snapshot()).held).toEqual([{ pid: process.pid, label: "next" }]);
    await lease.release();
  });

  test("another process's holder counts, and its exit frees the slot without a word", async () => {
    const dir = poolDir();
    const pool = createSlotPool({ dir, name: "grades", size: 1, pollMs: 20 });
    // A child takes the slot through the same module, says so, then waits to be killed.
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `
      const { createSlotPool } = await import(${JSON.stringify(new URL("./host-slots.ts", import.meta.url).href)});
      await createSlotPool({ dir: ${JSON.stringify(dir)}, name: "grades", size: 1 }).acquire("child");
      process.stdout.write("held\\n");
      setInterval(() => {}, 1000);
    `,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
    expect((await pool.snapshot()).held).toEqual([{ pid: child.pid, label: "child" }]);
    const waits: SlotWait[] = [];
    const mine = pool.acquire("parent", { onWait: (w) => waits.push(w) });
    await until(() => waits.length > 0, "parent waits");
    child.kill("SIGKILL");
    const lease = await mine;
    expect((await pool.snapshot()).held).toEqual([{ pid: process.pid, label: "parent" }]);
    await lease.release();
  });

  test("an aborted wait leaves no ticket behind", async () => {
    const pool = createSlotPool({ dir: poolDir(), name: "grades", size: 1, pollMs: 20 });
    const holder = await pool.acquire("holder");
    const controller = new AbortController();
    const waiting = pool.acquire("impatient", {
      signal: controller.signal,
      onWait: () => controller.abort(new Error("gave up")),
    });
    await expect(waiting).rejects.toThrow("gave up");
    expect((await pool.snapshot()).waiting).toEqual([]);
    await holder.release();
  });

  test("a pool needs at least one slot", () => {
    expect(() => createSlotPool({ dir: poolDir(), name: "builds", size: 0 })).toThrow(/at least one slot/);
  });
});
