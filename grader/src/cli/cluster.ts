import { parseArgs } from "node:util";
import type { ClusterRecord } from "../clusters/provider.ts";
import { ProviderNameSchema } from "../contracts.ts";
import { reapOrphans } from "../clusters/reaper.ts";
import { createProvider, prepareProvider } from "../clusters/select.ts";
import { ensureToolchain } from "../toolchain/build.ts";
import type { CliContext } from "./context.ts";

export const clusterHelp = `labgrader cluster create [--provider ${ProviderNameSchema.options.join("|")}] [--json]
labgrader cluster delete NAME [--provider …]
labgrader cluster list [--provider …] [--json]
labgrader cluster reap [--older-than-minutes N] [--provider …]
  Creates, deletes, lists grading clusters; reap deletes clusters whose creating process is gone.`;

export async function clusterCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      provider: { type: "string" },
      json: { type: "boolean" },
      "older-than-minutes": { type: "string" },
    },
    allowPositionals: true,
  });
  const [action, name] = positionals;
  const providerName = ProviderNameSchema.parse(values.provider ?? ctx.config.provider);
  const { toolchain } = await ensureToolchain({ cacheDir: ctx.config.cacheDir, env: ctx.env, log: ctx.log }, false);
  const deps = { config: ctx.config, toolchain, env: ctx.env, log: ctx.log };
  // Only creating needs the kind node image; listing and deleting work without it.
  const provider =
    action === "create"
      ? (await prepareProvider(providerName, deps, false)).provider
      : createProvider(providerName, deps);
  const show = (r: ClusterRecord) =>
    `${r.name}\t${r.provider}\t${r.createdAt}\tpid ${r.owner.pid}\t${r.kubeconfigPath}`;
  switch (action) {
    case "create": {
      const started = Date.now();
      const cluster = await provider.create();
      const { dispose: _dispose, ...record } = cluster;
      if (values.json) ctx.out(JSON.stringify({ ...record, readyMs: Date.now() - started }, null, 2));
      else ctx.out(`${cluster.name}\t${cluster.kubeconfigPath}`);
      return 0;
    }
    case "delete": {
      if (!name) throw new Error("cluster delete needs a NAME");
      await provider.delete(name);
      ctx.log(`deleted ${name}`);
      return 0;
    }
    case "list": {
      const records = await provider.list();
      ctx.out(values.json ? JSON.stringify(records, null, 2) : records.map(show).join("\n"));
      return 0;
    }
    case "reap": {
      const minutes = Number(values["older-than-minutes"] ?? "60");
      const reaped = await reapOrphans(provider, { olderThanMs: minutes * 60_000, log: ctx.log });
      ctx.out(reaped.join("\n"));
      return 0;
    }
    default:
      ctx.log(clusterHelp);
      return 2;
  }
}
