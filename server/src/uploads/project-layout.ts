import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { checkGoContainment, readGoModFile, readHead, type GoPolicy } from "./go-containment.ts";
import { GoModSyntaxError, goModString, parseGoMod, type GoModDirective } from "./go-mod.ts";
import { ArchiveRejected } from "./limits.ts";

// A Go file's header is tiny; reading more than this would only serve an attacker.
const MAX_GO_HEAD_BYTES = 64 * 1024;
// cmd/ holds a handful of binaries; bound the walk so a crafted tree cannot keep us busy.
const MAX_CMD_FILES = 500;
const MAX_CMD_DEPTH = 4;

// Go's module path rules (golang.org/x/mod/module): its alphabet, and no element that starts or
// ends with a dot, so "." and ".." never pass; that also keeps the path safe to log and show.
const ELEMENT = "[A-Za-z0-9_~+-](?:[A-Za-z0-9._~+-]*[A-Za-z0-9_~+-])?";
export const ModulePathSchema = z
  .string()
  .min(1)
  .max(300)
  .regex(new RegExp(`^${ELEMENT}(?:/${ELEMENT})*$`));

const notAProject = (message: string) => new ArchiveRejected("not_a_project", message);

const stripGoComments = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/.*$/gm, "");

/** The module path, once go.mod is known to build only the project (see checkGoContainment). */
async function checkGoMod(dir: string, policy: GoPolicy): Promise<string> {
  const tooLarge = () =>
    notAProject("The project's go.mod is implausibly large; upload the go.mod that `kubebuilder init` created.");
  const text = await readGoModFile(join(dir, "go.mod"), tooLarge);
  if (text === undefined) {
    throw notAProject(
      "The project has no go.mod at its root. Upload the folder where you ran `kubebuilder init` (the one containing go.mod, cmd/ and api/).",
    );
  }
  try {
    const directives = parseGoMod(text);
    const module = moduleOf(directives);
    await checkGoContainment(dir, text, directives, policy);
    return module;
  } catch (error) {
    if (!(error instanceof GoModSyntaxError)) throw error;
    throw notAProject(
      `The project's go.mod cannot be read (${error.message}); fix it (\`go mod edit -fmt\` finds what the go command rejects) and upload again.`,
    );
  }
}

function moduleOf(directives: GoModDirective[]): string {
  const modules = directives.filter((d) => d.verb === "module");
  const [only] = modules;
  const declared =
    modules.length === 1 && only?.args.length === 1 ? goModString(only.args[0] as string, only.line) : undefined;
  const parsed = ModulePathSchema.safeParse(declared);
  if (!parsed.success)
    throw notAProject(
      "The project's go.mod has no valid `module` line; it should start with e.g. `module github.com/you/postgres-operator`.",
    );
  return parsed.data;
}

/** Go files under cmd/, breadth first, without following symlinks. */
async function* goFilesUnder(dir: string): AsyncGenerator<string> {
  let level = [dir];
  let seen = 0;
  for (let depth = 0; depth < MAX_CMD_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const current of level) {
      for (const entry of await readdir(current, { withFileTypes: true })) {
        if (++seen > MAX_CMD_FILES) return;
        const path = join(current, entry.name);
        if (entry.isDirectory()) next.push(path);
        else if (entry.isFile() && entry.name.endsWith(".go") && !entry.name.endsWith("_test.go")) yield path;
      }
    }
    level = next;
  }
}

async function hasMainPackage(dir: string): Promise<boolean> {
  const cmd = join(dir, "cmd");
  if (!(await lstat(cmd).catch(() => undefined))?.isDirectory()) return false;
  for await (const file of goFilesUnder(cmd)) {
    const clause = /^\s*package\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(
      stripGoComments(await readHead(file, MAX_GO_HEAD_BYTES)),
    );
    if (clause?.[1] === "main") return true;
  }
  return false;
}

/**
 * Requires go.mod at the project root and a `package main` under cmd/ (kubebuilder's cmd/main.go),
 * and a go.mod that builds only the project with the host's Go (see checkGoContainment); throws
 * ArchiveRejected (422) naming what is wrong.
 */
export async function checkProjectLayout(dir: string, policy: GoPolicy): Promise<{ module: string }> {
  const module = await checkGoMod(dir, policy);
  if (!(await hasMainPackage(dir))) {
    throw notAProject(
      "The project has no `package main` under cmd/. kubebuilder puts the manager's entry point in cmd/main.go; upload the whole project folder.",
    );
  }
  return { module };
}
