import { z } from "zod";

// Go's own version order (cmd/go/internal/gover): 1.26 < 1.26rc1 < 1.26.0 < 1.26.8 < 1.27rc1.
// Numbers are decimal strings compared by length first, so no digit count overflows anything.
export interface GoVersion {
  major: string;
  minor: string;
  /** "" for a language version such as 1.26 or a prerelease such as 1.26rc1. */
  patch: string;
  /** "" for a release; alpha, beta or rc otherwise (they happen to sort by name). */
  kind: string;
  pre: string;
}

const NUMBER = "(0|[1-9][0-9]*)";
// What gover.IsValid accepts, a little more than go.mod's GoVersionRE; a prerelease has no patch.
const VERSION = new RegExp(`^${NUMBER}(?:\\.${NUMBER}(?:\\.${NUMBER}|([a-z]+)${NUMBER}?)?)?$`);

/** 1.26, 1.26.8, 1.26rc1 (no "go" prefix), as gover.parse reads them; undefined for anything else. */
export function parseGoVersion(text: string): GoVersion | undefined {
  const match = VERSION.exec(text);
  if (!match) return undefined;
  const [, major = "", minor, patch, kind = "", pre = ""] = match;
  if (minor === undefined) return { major, minor: "0", patch: "0", kind: "", pre: "" };
  // Before Go 1.21, a missing patch meant .0; since, 1.21 is the language version, below 1.21.0.
  const implicitPatch = compareNumbers(minor, "21") < 0 && kind === "" ? "0" : "";
  return { major, minor, patch: patch ?? implicitPatch, kind, pre };
}

function compareNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative, zero or positive as a is older than, the same as or newer than b. */
export function compareGoVersions(a: GoVersion, b: GoVersion): number {
  return (
    compareNumbers(a.major, b.major) ||
    compareNumbers(a.minor, b.minor) ||
    compareNumbers(a.patch, b.patch) ||
    (a.kind === b.kind ? 0 : a.kind < b.kind ? -1 : 1) ||
    compareNumbers(a.pre, b.pre)
  );
}

/**
 * The version a toolchain name stands for, as the go command reads it (gover.FromToolchain):
 * go1.26.8, or a custom build such as go1.26.8-corp or "go1.26.8 X:boringcrypto". Undefined otherwise.
 */
export function toolchainVersion(name: string): GoVersion | undefined {
  if (!name.startsWith("go") || /[\\/]/.test(name)) return undefined;
  return parseGoVersion(name.slice(2).split(/[ \t-]/)[0] ?? "");
}

// What the go command makes of a dependency's go line it cannot read strictly (modfile's laxGoVersionRE).
const LAX = /^v?((?:[1-9][0-9]*)\.(?:0|[1-9][0-9]*))[^0-9]/;

/** A go line's version, read as leniently as the go command reads any go.mod. */
export const goLineVersion = (text: string): GoVersion | undefined =>
  parseGoVersion(text) ?? parseGoVersion(LAX.exec(text)?.[1] ?? "");

/** go1.26.8 for messages. */
export const showGoVersion = (v: GoVersion): string =>
  `${v.major}.${v.minor}${v.patch ? `.${v.patch}` : ""}${v.kind}${v.pre}`;

/** The Go toolchain that builds submissions, as `go env GOVERSION` prints it (go1.26.8). */
export const GoToolchainSchema = z
  .string()
  .trim()
  .refine((name) => toolchainVersion(name) !== undefined, "expected a Go toolchain name such as go1.26.8");
