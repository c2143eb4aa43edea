import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { withFileLock } from "./file-lock.ts";

const lockPath = () => join(mkdtempSync(join(tmpdir(), "lock-")), "x.lock");

describe("withFileLock", () => {
  test("holders take turns and the lock is gone afterwards", async () => {
    const path = lockPath();
    const order: string[] = [];
    const job = (name: string) =>
      withFileLock(
        path,
        async () => {
          order.push(`${name} in`);
          await new Promise((r) => setTimeout(r, 50));
          order.push(`${name} out`);
        },
        { timeoutMs: 5_000, pollMs: 10 },
      );
    await Promise.all([job("a"), job("b")]);
    // Either may win the first turn (both try at once); what matters is that they never overlap.
    const first = order[0]!.split(" ")[0]!;
    const second = first === "a" ? "b" : "a";
    expect(order).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
    expect(existsSync(path)).toBe(false);
  });

  test("a lock left by a dead process is taken over", async () => {
    const path = lockPath();
    const child = spawn("true");
    await new Promise((r) => child.once("exit", r));
    writeFileSync(path, String(child.pid));
    await expect(withFileLock(path, async () => "ran", { timeoutMs: 2_000, pollMs: 10 })).resolves.toBe("ran");
  });

  test("a lock held by a live process is waited for, then given up on with a clear error", async () => {
    const path = lockPath();
    writeFileSync(path, String(process.pid));
    await expect(withFileLock(path, async () => "ran", { timeoutMs: 200, pollMs: 20 })).rejects.toThrow(
      /waited 200 ms for the lock .*\(held by pid \d+\)/,
    );
  });

  test("the lock is released when the work throws", async () => {
    const path = lockPath();
    await expect(
      withFileLock(
        path,
        async () => {
          throw new Error("boom");
        },
        { timeoutMs: 1_000 },
      ),
    ).rejects.toThrow("boom");
    expect(existsSync(path)).toBe(false);
  });
});
