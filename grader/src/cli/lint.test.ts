import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { graderConfigFromEnv } from "../config.ts";
import type * as Validate from "../grading/validate.ts";
import type { CliContext } from "./context.ts";
import { lintCommand } from "./lint.ts";

// Lets a case make reading test/controls fail, as a control.yaml that does not parse would.
const controls = vi.hoisted(() => ({ unreadable: false }));
vi.mock("../grading/validate.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof Validate>();
  return {
    ...actual,
    loadControls: async (dir: string) => {
      if (controls.unreadable) throw new Error("test/controls/broken/control.yaml: not YAML");
      return actual.loadControls(dir);
    },
  };
});

let scratchParent: string;
let savedTmpdir: string | undefined;
beforeEach(() => {
  savedTmpdir = process.env.TMPDIR;
  scratchParent = mkdtempSync(join(tmpdir(), "labgrader-lint-test-"));
  process.env.TMPDIR = scratchParent;
});
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  controls.unreadable = false;
  rmSync(scratchParent, { recursive: true, force: true });
});

function context(): CliContext {
  return { config: graderConfigFromEnv({}), env: {}, log: () => undefined, out: () => undefined, isTty: false };
}

describe("labgrader lint leaves no scratch folder behind", () => {
  test.each([
    { name: "when every variant is checked", unreadable: false, throws: false },
    { name: "when reading the controls fails part-way", unreadable: true, throws: true },
  ])(
    "$name",
    async ({ unreadable, throws }) => {
      controls.unreadable = unreadable;
      const linting = lintCommand([], context());
      if (throws) await expect(linting).rejects.toThrow(/control\.yaml/);
      else await expect(linting).resolves.toBeTypeOf("number");
      expect(readdirSync(scratchParent)).toEqual([]);
    },
    60_000,
  );
});
