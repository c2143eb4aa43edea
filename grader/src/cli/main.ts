import { graderConfigFromEnv } from "../config.ts";
import { messageChain } from "../errors.ts";
import { clusterCommand, clusterHelp } from "./cluster.ts";
import type { CliContext } from "./context.ts";
import { gradeCommand, gradeHelp } from "./grade.ts";
import { lintCommand, lintHelp } from "./lint.ts";
import { toolchainCommand, toolchainHelp } from "./toolchain.ts";
import { validateCommand, validateHelp } from "./validate.ts";
import { usersCommand, usersHelp } from "../../../server/src/cli/users.ts";

const commands: Record<string, { run: (args: string[], ctx: CliContext) => Promise<number>; help: string }> = {
  toolchain: { run: toolchainCommand, help: toolchainHelp },
  cluster: { run: clusterCommand, help: clusterHelp },
  grade: { run: gradeCommand, help: gradeHelp },
  validate: { run: validateCommand, help: validateHelp },
  lint: { run: lintCommand, help: lintHelp },
  users: { run: usersCommand, help: usersHelp },
};

function usage(): string {
  return ["labgrader — grades Kubernetes-operator labs against real clusters", "", ...Object.values(commands).map((c) => c.help)].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(`${usage()}\n`);
    return name === "help" || name === "--help" || name === undefined ? 0 : 2;
  }
  const ctx: CliContext = {
    config: graderConfigFromEnv(process.env),
    env: { ...process.env },
    log: (line) => process.stderr.write(`${line}\n`),
    out: (text) => process.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`),
    isTty: Boolean(process.stdout.isTTY),
  };
  return command.run(rest, ctx);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`labgrader: ${messageChain(error)}\n`);
    process.exitCode = 1;
  },
);
