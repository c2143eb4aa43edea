import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { graderConfigFromEnv, type GraderConfig } from "../../grader/src/config.ts";
import { ensureToolchain, type Toolchain } from "../../grader/src/toolchain/build.ts";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const referenceOperatorDir = join(repoRoot, "operator");

export function testConfig(): GraderConfig {
  return graderConfigFromEnv(process.env);
}

/** The toolchain the project's setup built; tests never build it themselves. */
export async function testToolchain(): Promise<Toolchain> {
  const { toolchain } = await ensureToolchain(
    { cacheDir: testConfig().cacheDir, env: process.env, log: () => undefined },
    false,
  );
  return toolchain;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `labgrader-${prefix}-`));
}

/** The environment a test hands to `go` builds. */
export function goEnv(): Record<string, string | undefined> {
  return { ...process.env };
}
