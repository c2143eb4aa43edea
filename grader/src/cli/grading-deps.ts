import { ProviderNameSchema } from "../contracts.ts";
import { prepareProvider } from "../clusters/select.ts";
import { hostCapacity, hostManagerCache } from "../grading/capacity.ts";
import type { GradeOptions } from "../grading/grade.ts";
import { managerEnvironment } from "../runner/manager-environment.ts";
import { sandboxSettings } from "../runner/sandbox.ts";
import { ensureToolchain } from "../toolchain/build.ts";
import type { CliContext } from "./context.ts";

/** What every grade a command starts shares: the cluster provider, the toolchain's controller-gen, the environments, the sandbox. */
export type GradingDeps = Pick<
  GradeOptions,
  | "provider"
  | "controllerGen"
  | "goEnv"
  | "managerEnv"
  | "sandbox"
  | "podSandbox"
  | "kubectl"
  | "capacity"
  | "managerCache"
>;

/** `sandbox` turns the sandbox on for this command even when the configuration does not. */
export async function gradingDeps(
  ctx: CliContext,
  provider: string | undefined,
  sandbox = false,
): Promise<GradingDeps> {
  const { toolchain } = await ensureToolchain({ cacheDir: ctx.config.cacheDir, env: ctx.env, log: ctx.log }, false);
  const prepared = await prepareProvider(
    ProviderNameSchema.parse(provider ?? ctx.config.provider),
    { config: ctx.config, toolchain, env: ctx.env, log: ctx.log },
    false,
  );
  const managerCache = hostManagerCache(ctx.config);
  const settings = sandboxSettings(ctx.config, { seccomp: toolchain.binaries["labgrader-seccomp"] });
  return {
    provider: prepared.provider,
    ...(prepared.kubectl ? { kubectl: prepared.kubectl } : {}),
    controllerGen: toolchain.binaries["controller-gen"],
    goEnv: ctx.env,
    managerEnv: managerEnvironment(ctx.env),
    capacity: hostCapacity(ctx.config),
    ...(managerCache ? { managerCache } : {}),
    ...(sandbox || ctx.config.sandbox ? { sandbox: settings } : {}),
    podSandbox: settings,
  };
}
