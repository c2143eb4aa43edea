import { describe, expect, it } from "vitest";
import { GoModSyntaxError, goModLookup, goModString, parseGoMod } from "./go-mod.ts";

// Each shape checked against `go mod edit -json` when this parser was written.
describe("parseGoMod", () => {
  it.each([
    {
      name: "one-line directives, comments dropped",
      text: "module x // the module\n\ngo 1.26.0\n// replace a => /b\nreplace a => ../b\n",
      replace: [["a", "=>", "../b"]],
    },
    {
      name: "a block",
      text: "replace (\n\ta => ./b\n\n\t// c => /d\n\te v1.0.0 => f v1.2.3 // why\n)\n",
      replace: [
        ["a", "=>", "./b"],
        ["e", "v1.0.0", "=>", "f", "v1.2.3"],
      ],
    },
    {
      name: "a block opened with a comment, keyword glued to the parenthesis",
      text: "replace( // pins\na => ../b\n)\n",
      replace: [["a", "=>", "../b"]],
    },
    { name: "an empty block", text: "replace ( )\nreplace ()\n", replace: [] },
    { name: "quoted words keep their quotes", text: 'replace "a" => "../b"\n', replace: [['"a"', "=>", '"../b"']] },
    { name: "CRLF line ends", text: "module x\r\nreplace a => ../b\r\n", replace: [["a", "=>", "../b"]] },
    { name: "a comment glued to a word", text: "replace a => ../b// c\n", replace: [["a", "=>", "../b"]] },
    // The go command takes `(` as a block only at the end of a line; this is one malformed directive.
    {
      name: "a block with a first line beside its parenthesis",
      text: "replace (a => ../b\n",
      replace: [["(", "a", "=>", "../b"]],
    },
    { name: "a parenthesis mid-line", text: "replace a => ( ../b\n", replace: [["a", "=>", "(", "../b"]] },
  ])("reads $name", ({ text, replace }) => {
    expect(
      parseGoMod(text)
        .filter((d) => d.verb === "replace")
        .map((d) => d.args),
    ).toEqual(replace);
  });

  it("numbers lines, inside blocks too", () => {
    expect(parseGoMod("module x\n\nreplace (\n\ta => ./b\n\tc => /d\n)\n").map((d) => [d.verb, d.line])).toEqual([
      ["module", 1],
      ["replace", 4],
      ["replace", 5],
    ]);
  });

  it.each([
    { name: "a block never closed", text: "replace (\na => ../b\n", says: "never closed" },
    { name: "words after a closing parenthesis", text: "replace (\na => ../b\n) x\n", says: "must end its line" },
    { name: "a two-word block", text: "replace a (\nb => ../c\n)\n", says: "unknown block type" },
    { name: "/* comments */", text: "/* replace a => /b */\nmodule x\n", says: "// comments" },
    { name: "a string across lines", text: 'replace a => "../\nb"\n', says: "not closed" },
    { name: "a control character", text: "module x\u0000\n", says: "unexpected character" },
  ])("refuses $name", ({ text, says }) => {
    expect(() => parseGoMod(text)).toThrow(GoModSyntaxError);
    expect(() => parseGoMod(text)).toThrow(says);
  });
});

describe("goModString", () => {
  it.each([
    { arg: "../b", is: "../b" },
    { arg: '"../b"', is: "../b" },
    { arg: '"\\x2e\\x2e/b"', is: "../b" },
    { arg: '"\\056\\056/b"', is: "../b" },
    { arg: '"\\u002e\\u002E/b"', is: "../b" },
    { arg: '"\\U0000002e./b"', is: "../b" },
    { arg: '"a\\"b\\\\c\\td"', is: 'a"b\\c\td' },
  ])("$arg → $is", ({ arg, is }) => {
    expect(goModString(arg, 1)).toBe(is);
  });

  it.each(["`../b`", "'../b'", 'a"b', '"\\q"', '"\\400"', '"\\ud800"', '"\\x2"', '"a"b"'])(
    "refuses %s, as the go command does",
    (arg) => {
      expect(() => goModString(arg, 1)).toThrow(GoModSyntaxError);
    },
  );
});

describe("goModLookup", () => {
  it("finds every `key value` line, in blocks and after odd spaces, as the toolchain switch does", () => {
    const text =
      "module x\ngo 1.26.0 // ok\n\tgo\t1.27\nreplace (\n  toolchain go1.28\n)\n\u00a0go 1.29\ngo.uber.org/zap v1\ngopher 1\n// go 1.99\n";
    expect(goModLookup(text, "go")).toEqual([
      { value: "1.26.0", line: 2 },
      { value: "1.27", line: 3 },
      { value: "1.29", line: 7 },
    ]);
    expect(goModLookup(text, "toolchain")).toEqual([{ value: "go1.28", line: 5 }]);
  });
});

describe("a hostile go.mod costs little", () => {
  it("reads a 200 KiB line of spaces in moments (an end-anchored trim would take minutes)", () => {
    const started = performance.now();
    expect(goModLookup(`go${" ".repeat(200_000)}x\n`, "go")).toEqual([{ value: "x", line: 1 }]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("keeps its messages short whatever the learner wrote", () => {
    expect(() => parseGoMod(`${"(".repeat(100_000)}\n`)).toThrow(/^line 1: unknown block type ".{100,130}"$/);
    expect(() => goModString(`"\\q${"a".repeat(100_000)}"`, 1)).toThrow(
      /^line 1: ".{100,130}" is not a valid quoted string$/,
    );
  });
});
