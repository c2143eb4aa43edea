import { lstat, open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ArchiveRejected } from "./limits.ts";

// A go.mod or a Go file's header is tiny; reading more than this would only serve an attacker.
const MAX_GO_MOD_BYTES = 256 * 1024;
const MAX_GO_HEAD_BYTES = 64 * 1024;
// cmd/ holds a handful of binaries; bound the walk so a crafted tree cannot keep us busy.
const MAX_CMD_FILES = 500;
const MAX_CMD_DEPTH = 4;

// Go's module path rules (golang.org/x/mod/module): its alphabet, and no element that starts or
// ends with a dot, so "." and ".." never pass; that also keeps the path safe to log and show.
const ELEMENT = "[A-Za-z0-9_~+-](?:[A-Za-z0-9._~+-]*[A-Za-z0-9_~+-])?";
export const ModulePathSchema = z.string().min(1).max(300).regex(new RegExp(`^${ELEMENT}(?:/${ELEMENT})*$`));

const notAProject = (message: string) => new ArchiveRejected("not_a_project", message);

async function readHead(path: string, max: number): Promise<string> {
  const handle = await open(path, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(max), 0, max, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

const stripGoComments = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/.*$/gm, "");

async function moduleOf(dir: string): Promise<string> {
  const path = join(dir, "go.mod");
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile()) {
    throw notAProject("The project has no go.mod at its root. Upload the folder where you ran `kubebuilder init` (the one containing go.mod, cmd/ and api/).");
  }
  if (info.size > MAX_GO_MOD_BYTES) throw notAProject("The project's go.mod is implausibly large; upload the go.mod that `kubebuilder init` created.");
  const declared = /^\s*module\s+(?:"([^"]*)"|`([^`]*)`|(\S+))\s*$/m.exec(stripGoComments(await readHead(path, MAX_GO_MOD_BYTES)));
  const parsed = ModulePathSchema.safeParse(declared?.[1] ?? declared?.[2] ?? declared?.[3]);
  if (!parsed.success) throw notAProject("The project's go.mod has no valid `module` line; it should start with e.g. `module github.com/you/postgres-operator`.");
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
    const clause = /^\s*package\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(stripGoComments(await readHead(file, MAX_GO_HEAD_BYTES)));
    if (clause?.[1] === "main") return true;
  }
  return false;
}

/**
 * Requires go.mod at the project root and a `package main` under cmd/ (kubebuilder's cmd/main.go);
 * throws ArchiveRejected("not_a_project", 422) naming what is missing.
 */
export async function checkProjectLayout(dir: string): Promise<{ module: string }> {
  const module = await moduleOf(dir);
  if (!(await hasMainPackage(dir))) {
    throw notAProject("The project has no `package main` under cmd/. kubebuilder puts the manager's entry point in cmd/main.go; upload the whole project folder.");
  }
  return { module };
}
