import { parseArgs } from "node:util";
import type { CliContext } from "./context.ts";
import { ensureToolchain } from "../toolchain/build.ts";

export const toolchainHelp = `labgrader toolchain [--check] [--quiet] [--json]
  Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, kwokctl and
  controller-gen from pinned Go modules into the cache, skipping what is already there.
  A binary named by LABGRADER_<NAME> (e.g. LABGRADER_KUBE_APISERVER), found in
  KUBEBUILDER_ASSETS or on PATH at the pinned version is used instead.
  --check  build nothing; fail and say what is missing
labgrader toolchain env
  Prints KUBEBUILDER_ASSETS=<folder> for envtest.`;

export async function toolchainCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { check: { type: "boolean" }, quiet: { type: "boolean" }, json: { type: "boolean" } }, allowPositionals: true });
  const started = Date.now();
  const log = values.quiet ? () => undefined : ctx.log;
  const result = await ensureToolchain({ cacheDir: ctx.config.cacheDir, env: ctx.env, log }, !values.check);
  if (positionals[0] === "env") {
    ctx.out(`KUBEBUILDER_ASSETS=${result.toolchain.assetsDir}`);
    return 0;
  }
  if (values.json) {
    ctx.out(JSON.stringify({ binaries: result.toolchain.binaries, built: result.built, assetsDir: result.toolchain.assetsDir }, null, 2));
    return 0;
  }
  if (!values.quiet) {
    for (const r of result.resolved) log(`${r.name.padEnd(24)} ${r.source.padEnd(15)} ${r.path}`);
    log(`toolchain ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${result.built.length} built)`);
  }
  return 0;
}
