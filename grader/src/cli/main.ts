import { graderConfigFromEnv } from "../config.ts";
import { messageChain } from "../errors.ts";
import type { CliContext } from "./context.ts";

export interface Command {
  run: (args: string[], ctx: CliContext) => Promise<number>;
  help: string;
}

/** Loads a command's module only when it runs (or for help): `labgrader users add` need not load the grader. */
export type CommandLoader = () => Promise<Command>;

const libraryCommands: Record<string, CommandLoader> = {
  toolchain: async () => import("./toolchain.ts").then((m) => ({ run: m.toolchainCommand, help: m.toolchainHelp })),
  cluster: async () => import("./cluster.ts").then((m) => ({ run: m.clusterCommand, help: m.clusterHelp })),
  grade: async () => import("./grade.ts").then((m) => ({ run: m.gradeCommand, help: m.gradeHelp })),
  validate: async () => import("./validate.ts").then((m) => ({ run: m.validateCommand, help: m.validateHelp })),
  lint: async () => import("./lint.ts").then((m) => ({ run: m.lintCommand, help: m.lintHelp })),
};

async function usage(commands: Record<string, CommandLoader>): Promise<string> {
  const helps = await Promise.all(Object.values(commands).map(async (load) => (await load()).help));
  return ["labgrader — grades Kubernetes-operator labs against real clusters", "", ...helps].join("\n");
}

async function main(argv: string[], commands: Record<string, CommandLoader>): Promise<number> {
  const [name, ...rest] = argv;
  const load = name ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(`${await usage(commands)}\n`);
    return name === "help" || name === "--help" || name === undefined ? 0 : 2;
  }
  const command = await load();
  const stderr = process.stderr;
  // On a terminal every line first erases a status line that may be drawn where it goes.
  const erase = stderr.isTTY ? "\r\x1b[2K" : "";
  const ctx: CliContext = {
    config: graderConfigFromEnv(process.env),
    env: { ...process.env },
    log: (line) => stderr.write(`${erase}${line}\n`),
    out: (text) => process.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`),
    isTty: Boolean(process.stdout.isTTY),
    ...(stderr.isTTY
      ? { live: (line: string) => stderr.write(`${erase}${line.slice(0, Math.max(20, (stderr.columns || 80) - 1))}`) }
      : {}),
  };
  return command.run(rest, ctx);
}

/**
 * Runs the library's commands and, listed after them, those its caller adds: the library never
 * imports the service, so bin/labgrader.ts hands in the gradebook's (`labgrader users`). Run
 * directly (`node grader/src/cli/main.ts lint`), this file has the library's commands only.
 */
export function runCli(argv: string[], extraCommands: Record<string, CommandLoader> = {}): void {
  main(argv, { ...libraryCommands, ...extraCommands }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`labgrader: ${messageChain(error)}\n`);
      process.exitCode = 1;
    },
  );
}

if (import.meta.main) runCli(process.argv.slice(2));
