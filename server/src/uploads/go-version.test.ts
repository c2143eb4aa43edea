import { describe, expect, it } from "vitest";
import { compareGoVersions, goLineVersion, parseGoVersion, toolchainVersion, type GoVersion } from "./go-version.ts";

const version = (text: string): GoVersion => {
  const parsed = parseGoVersion(text);
  if (!parsed) throw new Error(`test version ${text} does not parse`);
  return parsed;
};

// Oldest first, as the go command orders them; a line of equals is one group.
const ORDER = [
  ["1"],
  ["1.9", "1.9.0"],
  ["1.10"],
  ["1.20rc1"],
  ["1.20", "1.20.0"],
  ["1.20.1"],
  ["1.21"],
  ["1.21rc1"],
  ["1.21.0"],
  ["1.26"],
  ["1.26beta1"],
  ["1.26rc1"],
  ["1.26rc2"],
  ["1.26.0"],
  ["1.26.8"],
  ["1.26.10"],
  ["1.27"],
  ["1.27rc1"],
  ["1.27.0"],
  ["1.100.0"],
  ["2.0"],
];

describe("compareGoVersions", () => {
  const steps = ORDER.slice(1).map((group, i) => ({
    older: (ORDER[i] as string[]).at(-1) as string,
    newer: group[0] as string,
  }));
  it.each(steps)("$older < $newer", ({ older, newer }) => {
    expect(compareGoVersions(version(older), version(newer))).toBeLessThan(0);
    expect(compareGoVersions(version(newer), version(older))).toBeGreaterThan(0);
  });

  it.each(ORDER.filter((group) => group.length > 1))("%s = %s", (a, b) => {
    expect(compareGoVersions(version(a as string), version(b as string))).toBe(0);
  });
});

describe("parseGoVersion", () => {
  it.each([
    "",
    "1.",
    "1.26.",
    "01.26",
    "1.026",
    "1.26.08",
    "1.26.8rc1",
    "1.26RC1",
    "v1.26",
    "go1.26",
    "1.26 ",
    "1.26-x",
  ])("refuses %j", (text) => {
    expect(parseGoVersion(text)).toBeUndefined();
  });
});

describe("goLineVersion", () => {
  it.each([
    { text: "1.26.8", read: "1.26.8" },
    // What the go command salvages from a go line it cannot read strictly.
    { text: "v1.27", read: undefined },
    { text: "1.27-beta", read: "1.27" },
    { text: "1.27.x", read: "1.27" },
    { text: "x1.27", read: undefined },
  ])("$text → $read", ({ text, read }) => {
    expect(goLineVersion(text)).toEqual(read === undefined ? undefined : version(read));
  });
});

describe("toolchainVersion", () => {
  it.each([
    { name: "go1.26.8", is: "1.26.8" },
    { name: "go1.26.8 X:boringcrypto", is: "1.26.8" },
    { name: "go1.27-custom", is: "1.27" },
    { name: "go1.27rc1", is: "1.27rc1" },
    { name: "1.26.8", is: undefined },
    { name: "corp-go1.27", is: undefined },
    { name: "go1.27/../x", is: undefined },
    { name: "devel go1.27-abcdef", is: undefined },
    { name: "default", is: undefined },
  ])("$name → $is", ({ name, is }) => {
    const parsed = toolchainVersion(name);
    if (is === undefined) expect(parsed).toBeUndefined();
    else expect(parsed).toEqual(version(is));
  });
});
