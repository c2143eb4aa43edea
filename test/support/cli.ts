import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { repoRoot } from "./env.ts";

const run = promisify(execFile);

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `labgrader …` as a user would, with the Node that runs the tests. */
export async function labgrader(
  args: string[],
  timeoutMs = 600_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [`${repoRoot}bin/labgrader.ts`, ...args], {
      env,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failure = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof failure.code !== "number") throw e;
    return { code: failure.code, stdout: failure.stdout ?? "", stderr: failure.stderr ?? "" };
  }
}
