import { runChecked, runCommand } from "../process/command.ts";

/** The environment every Docker command of the kind image build runs with. */
export type DockerEnv = Readonly<Record<string, string | undefined>>;

/**
 * The legacy builder: with it `FROM <local image>` and `FROM scratch` never reach a registry,
 * where BuildKit would try to resolve the base image's metadata.
 */
function builderEnv(env: DockerEnv): Record<string, string | undefined> {
  return { ...env, DOCKER_BUILDKIT: "0" };
}

export async function docker(args: string[], env: DockerEnv, timeoutMs?: number): Promise<string> {
  return (await runChecked("docker", args, { env: builderEnv(env), timeoutMs })).stdout.trim();
}

/** Whether a Docker daemon answers at all. */
export async function dockerAnswers(env: DockerEnv): Promise<boolean> {
  const r = await runCommand("docker", ["version", "--format", "{{.Server.Version}}"], {
    env,
    timeoutMs: 15_000,
  }).catch(() => undefined);
  return r?.code === 0;
}

/** The value of `label` on a local image: undefined when there is no such image, "" when the label is unset. */
export async function imageLabel(ref: string, label: string, env: DockerEnv): Promise<string | undefined> {
  const r = await runCommand(
    "docker",
    ["image", "inspect", "--format", `{{ index .Config.Labels ${JSON.stringify(label)} }}`, ref],
    { env, timeoutMs: 30_000 },
  );
  if (r.code !== 0) return undefined;
  const value = r.stdout.trim();
  return value === "<no value>" ? "" : value;
}

export async function imageSize(ref: string, env: DockerEnv): Promise<number> {
  return Number(await docker(["image", "inspect", "--format", "{{.Size}}", ref], env));
}

/**
 * Runs a shell pipeline with pipefail, its arguments passed as $1, $2, … so that no path or tag
 * is ever spliced into the script text.
 */
export async function pipeline(script: string, args: string[], env: DockerEnv, cwd?: string): Promise<string> {
  return (
    await runChecked("bash", ["-euo", "pipefail", "-c", script, "pipeline", ...args], { env: builderEnv(env), cwd })
  ).stdout;
}

/** `tar | docker import`: a root filesystem folder becomes an image, with optional Dockerfile changes. */
export async function importRootfs(dir: string, tag: string, changes: string[], env: DockerEnv): Promise<void> {
  const changeArgs = changes.flatMap((c) => ["--change", c]);
  await pipeline(
    'dir=$1 tag=$2; shift 2; tar --numeric-owner -C "$dir" -c . | docker import "$@" - "$tag" >/dev/null',
    [dir, tag, ...changeArgs],
    env,
  );
}

export interface BuildOptions {
  /** Folder holding the Dockerfile's files. */
  context: string;
  dockerfile: string;
  tags: string[];
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
}

export async function buildImage(opts: BuildOptions, env: DockerEnv): Promise<void> {
  const args = ["build", "--quiet", "--force-rm", "-f", opts.dockerfile];
  for (const tag of opts.tags) args.push("-t", tag);
  for (const [k, v] of Object.entries(opts.buildArgs ?? {})) args.push("--build-arg", `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.labels ?? {})) args.push("--label", `${k}=${v}`);
  await docker([...args, opts.context], env);
}
