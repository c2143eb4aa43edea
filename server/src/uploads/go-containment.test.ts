import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_GO_POLICY, writeProject, type ProjectFiles } from "./archive-fixtures.ts";
import { ArchiveRejected, type RejectionCode } from "./archive.ts";
import { checkProjectLayout } from "./project-layout.ts";

const MAIN = "package main\n\nfunc main() {}\n";
const goMod = (...lines: string[]) =>
  ["module github.com/you/postgres-operator", "", "go 1.26.0", "", ...lines, ""].join("\n");
const THIRD_PARTY = {
  "third_party/x/go.mod": "module example.com/x\n\ngo 1.25.0\n",
  "third_party/x/x.go": "package x\n",
};

let parent = "";
let outside = "";
let counter = 0;

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), "labgrader-containment-"));
  // Stands in for the grader's own reference operator: a module outside the learner's project.
  outside = join(parent, "reference");
  await mkdir(outside);
  await writeFile(join(outside, "go.mod"), "module github.com/example/postgres-operator\n\ngo 1.26.0\n");
});

afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

const project = (files: ProjectFiles) => writeProject(join(parent, `p${counter++}`), { "cmd/main.go": MAIN, ...files });

interface Refusal {
  name: string;
  files: (outside: string) => ProjectFiles;
  code: RejectionCode;
  /** Words the learner must read in the message. */
  says: string[];
  goVersion?: string;
}

const refusals: Refusal[] = [
  {
    name: "the reported attack: the reference operator by absolute path",
    files: () => ({
      "go.mod": [
        "module github.com/example/postgres-operator/x",
        "go 1.26.0",
        "require github.com/example/postgres-operator v0.0.0",
        "replace github.com/example/postgres-operator => /work/main/operator",
      ].join("\n"),
    }),
    code: "local_replace",
    says: [
      "go.mod line 4",
      "folder outside the project",
      "/work/main/operator",
      "published version",
      "./third_party/x",
    ],
  },
  {
    name: "a replace to an existing folder outside, by absolute path",
    files: (o) => ({ "go.mod": goMod(`replace github.com/example/postgres-operator => ${o}`) }),
    code: "local_replace",
    says: ["line 5", "outside the project"],
  },
  {
    name: "a replace climbing out with ..",
    files: () => ({ "go.mod": goMod("replace github.com/example/postgres-operator => ../reference") }),
    code: "local_replace",
    says: ["../reference"],
  },
  {
    name: "a replace that climbs out after going in",
    files: () => ({ ...THIRD_PARTY, "go.mod": goMod("replace example.com/x => ./third_party/../../reference") }),
    code: "local_replace",
    says: ["outside the project"],
  },
  {
    name: "a replace with a version on the old side",
    files: () => ({ "go.mod": goMod("replace example.com/x v1.0.0 => ../reference") }),
    code: "local_replace",
    says: ["outside the project"],
  },
  {
    name: "block form, the outside folder second",
    files: () => ({
      ...THIRD_PARTY,
      "go.mod": goMod(
        "replace (",
        "\texample.com/x => ./third_party/x",
        "\tgithub.com/example/postgres-operator => ../reference // the answers",
        ")",
      ),
    }),
    code: "local_replace",
    says: ["line 7", "../reference"],
  },
  {
    name: "a quoted path",
    files: () => ({ "go.mod": goMod('replace example.com/x => "/work/main/operator"') }),
    code: "local_replace",
    says: ["outside the project"],
  },
  {
    name: "a quoted path hiding .. in escapes",
    files: () => ({ "go.mod": goMod('replace example.com/x => "\\x2e\\x2e/reference"') }),
    code: "local_replace",
    says: ["outside the project"],
  },
  {
    name: "a Windows path",
    files: () => ({ "go.mod": goMod("replace example.com/x => C:\\operator") }),
    code: "local_replace",
    says: ["outside the project"],
  },
  {
    name: "a folder with a version (the go command rejects it; we refuse it first)",
    files: () => ({ "go.mod": goMod("replace example.com/x => ../reference v1.0.0") }),
    code: "local_replace",
    says: ["outside the project"],
  },
  {
    name: "a folder inside that is a symlink to one outside",
    files: (o) => ({ "third_party/x": { link: o }, "go.mod": goMod("replace example.com/x => ./third_party/x") }),
    code: "local_replace",
    says: ["outside the project"],
  },
  {
    name: "a go line newer than the host's",
    files: () => ({ "go.mod": goMod().replace("go 1.26.0", "go 1.27") }),
    code: "go_version",
    says: ["go.mod line 3", '"go 1.27"', "go1.26.8", "1.26.8 or lower"],
  },
  {
    name: "a go line one patch ahead",
    files: () => ({ "go.mod": goMod().replace("go 1.26.0", "go 1.26.9") }),
    code: "go_version",
    says: ['"go 1.26.9"', "asks for a newer Go"],
  },
  {
    name: "a go line asking for a release candidate of the next Go",
    files: () => ({ "go.mod": goMod().replace("go 1.26.0", "go 1.27rc1") }),
    code: "go_version",
    says: ["1.27rc1"],
  },
  {
    name: "a toolchain line newer than the host's",
    files: () => ({ "go.mod": goMod("toolchain go1.27.0") }),
    code: "go_version",
    says: ["line 5", '"toolchain go1.27.0"', "go1.26.8"],
  },
  {
    name: "a custom toolchain name of a newer Go",
    files: () => ({ "go.mod": goMod("toolchain go1.26.9-custom") }),
    code: "go_version",
    says: ["go1.26.9-custom"],
  },
  {
    name: "a toolchain that is not one",
    files: () => ({ "go.mod": goMod("toolchain mine") }),
    code: "go_version",
    says: ["not a Go toolchain"],
  },
  {
    name: "a go line that is not a version",
    files: () => ({ "go.mod": goMod().replace("go 1.26.0", "go one") }),
    code: "go_version",
    says: ["not a Go version"],
  },
  // The go command picks its toolchain from any such line before it parses go.mod at all.
  {
    name: "a toolchain line hidden in a block",
    files: () => ({ "go.mod": goMod("require (", "toolchain go1.99.0", ")") }),
    code: "go_version",
    says: ["line 6"],
  },
  {
    name: "a newer go line in an in-project replacement",
    files: () => ({
      ...THIRD_PARTY,
      "third_party/x/go.mod": "module example.com/x\n\ngo 1.27.0\n",
      "go.mod": goMod("replace example.com/x => ./third_party/x"),
    }),
    code: "go_version",
    says: ['"third_party/x/go.mod" line 3', '"go 1.27.0"'],
  },
  {
    name: "a replace the go command cannot read",
    files: () => ({ "go.mod": goMod("replace example.com/x") }),
    code: "not_a_project",
    says: ["line 5", "not a replace directive"],
  },
  {
    name: "a go.mod that does not parse",
    files: () => ({ "go.mod": goMod("replace (", "example.com/x => ./y") }),
    code: "not_a_project",
    says: ["cannot be read", "never closed"],
  },
];

describe("checkProjectLayout keeps the build inside the project", () => {
  it.each(refusals)("refuses $name", async ({ files, code, says, goVersion }) => {
    const dir = await project(files(outside));
    const error = await checkProjectLayout(dir, { goVersion: goVersion ?? TEST_GO_POLICY.goVersion }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArchiveRejected);
    expect(error).toMatchObject({ code, status: 422 });
    for (const words of says) expect((error as Error).message).toContain(words);
  });

  it.each<{ name: string; files: ProjectFiles; goVersion?: string }>([
    {
      name: "a replace to a folder inside the project",
      files: { ...THIRD_PARTY, "go.mod": goMod("replace example.com/x => ./third_party/x") },
    },
    {
      name: "a replace to a folder inside, through .. that stays inside",
      files: { ...THIRD_PARTY, "go.mod": goMod("replace example.com/x => ./cmd/../third_party/x") },
    },
    {
      name: "a replace with a published version",
      files: { "go.mod": goMod("replace example.com/x => example.com/fork/x v1.2.3") },
    },
    {
      name: "a replace of one version with a published version",
      files: { "go.mod": goMod("replace example.com/x v1.0.0 => example.com/fork/x v1.2.3") },
    },
    {
      name: "block form with both, comments and quotes",
      files: {
        ...THIRD_PARTY,
        "go.mod": goMod(
          "replace (",
          "\t// forks",
          '\t"example.com/x" => "./third_party/x"',
          "\texample.com/y v1.0.0 => example.com/fork/y v1.2.3 // pinned",
          ")",
        ),
      },
    },
    {
      name: "an outside replace that is only a comment",
      files: { "go.mod": goMod("// replace example.com/x => /work/main/operator") },
    },
    {
      name: "a replace to a folder inside that does not exist (the build will say so)",
      files: { "go.mod": goMod("replace example.com/x => ./vendor-x") },
    },
    { name: "the host's own Go", files: { "go.mod": goMod("toolchain go1.26.8").replace("go 1.26.0", "go 1.26.8") } },
    {
      name: "a language version and an older toolchain",
      files: { "go.mod": goMod("toolchain go1.25.3").replace("go 1.26.0", "go 1.26") },
    },
    { name: "a release candidate of the host's Go", files: { "go.mod": goMod().replace("go 1.26.0", "go 1.26rc1") } },
    { name: "toolchain default", files: { "go.mod": goMod("toolchain default") } },
    {
      name: "a go line the host was configured for",
      files: { "go.mod": goMod("toolchain go1.27.1").replace("go 1.26.0", "go 1.27") },
      goVersion: "go1.27.1",
    },
  ])("accepts $name", async ({ files, goVersion }) => {
    const dir = await project(files);
    expect(await checkProjectLayout(dir, { goVersion: goVersion ?? TEST_GO_POLICY.goVersion })).toEqual({
      module: "github.com/you/postgres-operator",
    });
  });
});
