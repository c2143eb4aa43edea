import { describe, expect, it, test } from "vitest";
import { formatProblem } from "../engine/yaml-location.ts";
import { LABS_DIR, listLabs } from "./load.ts";
import { loadCourse, parseCourse } from "./course.ts";

const FILE = "labs/course.yaml";
const KNOWN = ["alpha", "beta", "gamma"];

/** A course of two modules whose labs are given as YAML flow lines (one per lab). */
const course = (first: string[], second: string[] = ["{ lab: gamma, weight: 1 }"]) =>
  [
    "id: demo",
    "title: Demo course",
    "modules:",
    "  - number: 1",
    "    title: First",
    "    labs:",
    ...first.map((l) => `      - ${l}`),
    "  - number: 2",
    "    title: Second",
    "    labs:",
    ...second.map((l) => `      - ${l}`),
    "",
  ].join("\n");

const problemsOf = (text: string) => parseCourse(FILE, text, KNOWN).problems.map(formatProblem);

describe("parseCourse", () => {
  it("accepts a course whose prerequisites come earlier", () => {
    const parsed = parseCourse(
      FILE,
      course(["{ lab: alpha, weight: 1 }", "{ lab: beta, weight: 2, requires: [alpha] }"]),
      KNOWN,
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.course?.modules.map((m) => m.labs.map((l) => l.lab))).toEqual([["alpha", "beta"], ["gamma"]]);
  });

  test.each([
    {
      name: "an unknown lab id",
      text: course(["{ lab: alpha, weight: 1 }", "{ lab: omega, weight: 1 }"]),
      problem: `${FILE}:8: modules.0.labs.1.lab: unknown lab "omega": no folder labs/omega holds a lab.yaml (known labs: alpha, beta, gamma)`,
    },
    {
      name: "a lab listed twice",
      text: course(["{ lab: alpha, weight: 1 }"], ["{ lab: gamma, weight: 1 }", "{ lab: alpha, weight: 1 }"]),
      problem: `${FILE}:12: modules.1.labs.1.lab: lab "alpha" is listed twice (first at modules.0.labs.0)`,
    },
    {
      name: "a prerequisite that is not in the course",
      text: course(["{ lab: alpha, weight: 1, requires: [beta] }"]),
      problem: `${FILE}:7: modules.0.labs.0.requires.0: "beta" is not a lab of this course`,
    },
    {
      name: "a prerequisite that comes later",
      text: course(["{ lab: alpha, weight: 1, requires: [gamma] }"]),
      problem: `${FILE}:7: modules.0.labs.0.requires.0: "gamma" comes later in the course than "alpha"; a prerequisite comes before the lab that needs it`,
    },
    {
      name: "a lab that requires itself",
      text: course(["{ lab: alpha, weight: 1, requires: [alpha] }"]),
      problem: `${FILE}:7: modules.0.labs.0.requires.0: lab "alpha" requires itself`,
    },
    {
      name: "prerequisites that form a cycle",
      text: course(["{ lab: alpha, weight: 1, requires: [beta] }", "{ lab: beta, weight: 1, requires: [alpha] }"]),
      problem: `${FILE}:7: requires: the prerequisites form a cycle: alpha → beta → alpha`,
    },
    {
      name: "a weight of 0",
      text: course(["{ lab: alpha, weight: 0 }"]),
      problem: `${FILE}:7: modules.0.labs.0.weight: a weight is a number above 0`,
    },
    {
      name: "a negative weight",
      text: course(["{ lab: alpha, weight: -2 }"]),
      problem: `${FILE}:7: modules.0.labs.0.weight: a weight is a number above 0`,
    },
    {
      name: "modules out of order",
      text: course(["{ lab: alpha, weight: 1 }"]).replace("number: 2", "number: 1"),
      problem: `${FILE}:8: modules.1.number: module 1 comes after module 1`,
    },
  ])("reports $name, naming the file and the entry", ({ text, problem }) => {
    expect(problemsOf(text)).toContain(problem);
  });
});

describe("labs/course.yaml", () => {
  it("loads clean and lists only labs that exist as folders", async () => {
    const loaded = await loadCourse(LABS_DIR);
    const labs = loaded?.modules.flatMap((m) => m.labs.map((l) => l.lab)) ?? [];
    expect(labs).toContain("composing-operators");
    const known = await listLabs(LABS_DIR);
    expect(labs.filter((id) => !known.includes(id))).toEqual([]);
  });
});
