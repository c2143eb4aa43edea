import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runChecked } from "../process/command.ts";
import { sha256 } from "./kind-key.ts";
import { debianMirror } from "./kind-sources.ts";
import { toolchainModuleDir } from "./versions.ts";

/** The Debian root filesystems the node image is made from. */
export type RootfsName = "node" | "imgbase" | "postgres";
export const rootfsNames: readonly RootfsName[] = ["node", "imgbase", "postgres"];

export const kindToolchainDir = join(toolchainModuleDir, "kind");
const debootstrapScript = join(kindToolchainDir, "rootfs", "debootstrap.sh");

export interface RootfsOptions {
  cacheDir: string;
  env: Readonly<Record<string, string | undefined>>;
  log: (line: string) => void;
  suite: string;
  /** apt's configuration folder, whose sources name the mirror to bootstrap from. */
  aptDir?: string;
}

export function rootfsDir(cacheDir: string, name: RootfsName): string {
  return join(cacheDir, "kind", "rootfs", name);
}

/** A package list file: one package a line, `#` comments. */
export function parsePackageList(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean);
}

export function rootfsPackages(name: RootfsName): string[] {
  return parsePackageList(readFileSync(join(kindToolchainDir, "rootfs", `${name}.packages`), "utf8"));
}

/** Paths trimmed after debootstrap (rootfs/<name>.remove), when the root filesystem has such a list. */
function removeList(name: RootfsName): string | undefined {
  const path = join(kindToolchainDir, "rootfs", `${name}.remove`);
  return existsSync(path) ? path : undefined;
}

/** A rootfs is rebuilt when its suite, its package or remove list, or the bootstrap script changes. */
function rootfsKey(name: RootfsName, suite: string): string {
  const remove = removeList(name);
  return JSON.stringify({
    suite,
    packages: rootfsPackages(name),
    remove: remove ? sha256(readFileSync(remove)).slice(0, 16) : "",
    script: sha256(readFileSync(debootstrapScript)).slice(0, 16),
  });
}

function stampPath(cacheDir: string, name: RootfsName): string {
  return join(cacheDir, "kind", "stamps", `rootfs-${name}`);
}

export function isRootfsCurrent(opts: Pick<RootfsOptions, "cacheDir" | "suite">, name: RootfsName): boolean {
  const stamp = stampPath(opts.cacheDir, name);
  return (
    existsSync(join(rootfsDir(opts.cacheDir, name), "etc", "os-release")) &&
    existsSync(stamp) &&
    readFileSync(stamp, "utf8") === rootfsKey(name, opts.suite)
  );
}

/** The mirror this host's apt uses for `suite`, so debootstrap fetches from where apt-get can. */
export function hostDebianMirror(suite: string, aptDir = "/etc/apt"): string {
  const files = [join(aptDir, "sources.list")];
  const dropIns = join(aptDir, "sources.list.d");
  if (existsSync(dropIns)) {
    for (const f of readdirSync(dropIns).sort())
      if (f.endsWith(".list") || f.endsWith(".sources")) files.push(join(dropIns, f));
  }
  const texts = files.filter((f) => existsSync(f)).map((f) => readFileSync(f, "utf8"));
  const mirror = debianMirror(texts, suite);
  if (!mirror)
    throw new Error(`no apt source under ${aptDir} serves the suite ${suite}; debootstrap needs a Debian mirror`);
  return mirror;
}

/** Bootstraps each root filesystem that is missing or stale, one after another (they share a .deb cache). */
export async function ensureRootfs(
  opts: RootfsOptions,
  build = true,
): Promise<{ built: RootfsName[]; missing: RootfsName[] }> {
  const missing = rootfsNames.filter((n) => !isRootfsCurrent(opts, n));
  if (!build || missing.length === 0) return { built: [], missing };
  const mirror = hostDebianMirror(opts.suite, opts.aptDir);
  mkdirSync(join(opts.cacheDir, "kind", "stamps"), { recursive: true });
  for (const name of missing) {
    const started = Date.now();
    opts.log(`  debootstrap ${name} (${opts.suite} from ${mirror})`);
    const args = [
      rootfsDir(opts.cacheDir, name),
      opts.suite,
      mirror,
      join(opts.cacheDir, "kind", "debs"),
      rootfsPackages(name).join(","),
      removeList(name) ?? "",
    ];
    try {
      await runChecked(debootstrapScript, args, { env: opts.env });
    } catch (e) {
      throw new Error(`while bootstrapping the ${name} root filesystem`, { cause: e });
    }
    writeFileSync(stampPath(opts.cacheDir, name), rootfsKey(name, opts.suite));
    opts.log(`  debootstrap ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return { built: missing, missing: [] };
}

/** The version of an installed package in the text of dpkg's status file. */
export function dpkgVersion(status: string, pkg: string): string | undefined {
  const stanza = status
    .split(/\n\n+/)
    .find((s) => s.split("\n").includes(`Package: ${pkg}`) && /^Status: install ok installed$/m.test(s));
  return stanza ? /^Version: (.+)$/m.exec(stanza)?.[1] : undefined;
}

/** The installed version of a Debian package in a root filesystem. */
export function installedPackageVersion(rootfs: string, pkg: string): string | undefined {
  return dpkgVersion(readFileSync(join(rootfs, "var", "lib", "dpkg", "status"), "utf8"), pkg);
}
