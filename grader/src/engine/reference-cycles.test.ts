import { describe, expect, it } from "vitest";
import { findReferenceCycles, type ReferenceEdge } from "./reference-cycles.ts";

const edge = (from: string, to: string): ReferenceEdge => ({
  from,
  to,
  field: "spec.ref.name",
  file: "f.yaml",
  line: 1,
});

describe("findReferenceCycles", () => {
  it.each([
    { name: "no references", edges: [], cycles: [] },
    { name: "a chain", edges: [edge("Database/d2", "Backup/b"), edge("Backup/b", "Database/d1")], cycles: [] },
    {
      name: "a Database backed up by a Backup of itself",
      edges: [edge("Database/d", "Backup/b"), edge("Backup/b", "Database/d")],
      cycles: [["Database/d", "Backup/b"]],
    },
    { name: "an object naming itself", edges: [edge("Backup/b", "Backup/b")], cycles: [["Backup/b"]] },
    {
      name: "a longer loop, reported once",
      edges: [edge("A/a", "B/b"), edge("B/b", "C/c"), edge("C/c", "A/a"), edge("D/d", "A/a")],
      cycles: [["A/a", "B/b", "C/c"]],
    },
  ])("$name", ({ edges, cycles }) => {
    expect(findReferenceCycles(edges).map((cycle) => cycle.map((e) => e.from))).toEqual(cycles);
  });
});
