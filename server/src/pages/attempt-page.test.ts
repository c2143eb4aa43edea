import { describe, expect, test } from "vitest";
import { timelineGrid } from "./attempt-page.ts";
import { withCode } from "./format.ts";

const item = (
  at: number,
  kind: string,
  name: string,
  summary: string,
  type: "ADDED" | "MODIFIED" | "DELETED" = "MODIFIED",
) => ({ at, seq: at, type, kind, name, summary });

describe("timelineGrid", () => {
  test("one column per object; each row carries every object's state forward and marks the one that changed", () => {
    const grid = timelineGrid([
      item(1000, "Backup", "b", "phase=Pending", "ADDED"),
      item(2000, "Database", "d", "phase=Provisioning", "ADDED"),
      item(3500, "Backup", "b", "phase=Completed"),
      item(4000, "Database", "d", "", "DELETED"),
    ]);
    expect(grid.columns).toEqual(["Backup/b", "Database/d"]);
    expect(grid.rows.map((r) => [r.at, ...r.cells.map((c) => `${c.changed ? "*" : ""}${c.text}`)])).toEqual([
      ["1.0 s", "*phase=Pending", ""],
      ["2.0 s", "phase=Pending", "*phase=Provisioning"],
      ["3.5 s", "*phase=Completed", "phase=Provisioning"],
      ["4.0 s", "phase=Completed", "*deleted"],
    ]);
  });
});

describe("withCode", () => {
  test.each([
    { text: "plain", parts: [{ text: "plain", code: false }] },
    {
      text: "run `make manifests` now",
      parts: [
        { text: "run ", code: false },
        { text: "make manifests", code: true },
        { text: " now", code: false },
      ],
    },
    { text: "an odd ` stays text", parts: [{ text: "an odd ` stays text", code: false }] },
    {
      text: "`<b>` is text, escaped by the template",
      parts: [
        { text: "<b>", code: true },
        { text: " is text, escaped by the template", code: false },
      ],
    },
  ])("$text", ({ text, parts }) => {
    expect(withCode(text)).toEqual(parts);
  });
});
