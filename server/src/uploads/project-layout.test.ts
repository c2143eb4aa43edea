import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_GO_POLICY as POLICY, writeProject, type ProjectFiles as Files } from "./archive-fixtures.ts";
import { ArchiveRejected } from "./archive.ts";
import { checkProjectLayout } from "./project-layout.ts";

const OPERATOR = fileURLToPath(new URL("../../../operator/", import.meta.url));
const GO_MOD = "module github.com/you/postgres-operator\n\ngo 1.26.0\n";
const MAIN = "/*\nCopyright 2026.\n*/\n\n// Package main starts the manager.\npackage main\n\nfunc main() {}\n";

let parent = "";
let counter = 0;

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), "labgrader-layout-"));
});

afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

const project = (files: Files) => writeProject(join(parent, `p${counter++}`), files);

describe("checkProjectLayout", () => {
  it("accepts the reference kubebuilder project", async () => {
    expect(await checkProjectLayout(OPERATOR, POLICY)).toEqual({ module: "github.com/example/postgres-operator" });
  });

  it.each<{ name: string; files: Files; module: string }>([
    {
      name: "cmd/main.go",
      files: { "go.mod": GO_MOD, "cmd/main.go": MAIN },
      module: "github.com/you/postgres-operator",
    },
    {
      name: "main package nested under cmd/manager",
      files: { "go.mod": GO_MOD, "cmd/manager/main.go": MAIN },
      module: "github.com/you/postgres-operator",
    },
    {
      name: "quoted module path and comments",
      files: { "go.mod": '// the operator\nmodule "example.com/op" // quoted\n', "cmd/main.go": MAIN },
      module: "example.com/op",
    },
  ])("accepts $name", async ({ files, module }) => {
    expect(await checkProjectLayout(await project(files), POLICY)).toEqual({ module });
  });

  it.each<{ name: string; files: Files; mentions: string }>([
    { name: "no go.mod", files: { "cmd/main.go": MAIN }, mentions: "go.mod" },
    { name: "go.mod in a subfolder only", files: { "src/go.mod": GO_MOD, "cmd/main.go": MAIN }, mentions: "go.mod" },
    { name: "go.mod is a folder", files: { "go.mod/x": GO_MOD, "cmd/main.go": MAIN }, mentions: "go.mod" },
    {
      name: "go.mod is a symlink",
      files: { "real.mod": GO_MOD, "go.mod": { link: "real.mod" }, "cmd/main.go": MAIN },
      mentions: "go.mod",
    },
    {
      name: "go.mod without a module line",
      files: { "go.mod": "go 1.26.0\n", "cmd/main.go": MAIN },
      mentions: "module",
    },
    {
      name: "go.mod with a module path that is not one",
      files: { "go.mod": "module ../../etc\n", "cmd/main.go": MAIN },
      mentions: "module",
    },
    {
      name: "go.mod with a module path with spaces",
      files: { "go.mod": 'module "a b"\n', "cmd/main.go": MAIN },
      mentions: "module",
    },
    { name: "no cmd folder", files: { "go.mod": GO_MOD, "main.go": MAIN }, mentions: "package main" },
    {
      name: "cmd/ with another package",
      files: { "go.mod": GO_MOD, "cmd/main.go": "package cmd\n" },
      mentions: "package main",
    },
    {
      name: "package main only in a test file",
      files: { "go.mod": GO_MOD, "cmd/main_test.go": MAIN },
      mentions: "package main",
    },
    {
      name: "package main only in a comment",
      files: { "go.mod": GO_MOD, "cmd/main.go": "/*\npackage main\n*/\npackage tools\n" },
      mentions: "package main",
    },
    {
      name: "cmd is a symlink to a main package",
      files: { "go.mod": GO_MOD, "tools/main.go": MAIN, cmd: { link: "tools" } },
      mentions: "package main",
    },
  ])("refuses $name, saying what is missing", async ({ files, mentions }) => {
    const error = await checkProjectLayout(await project(files), POLICY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveRejected);
    expect(error).toMatchObject({ code: "not_a_project", status: 422 });
    expect((error as Error).message).toContain(mentions);
  });
});
