/**
 * Folders the manager gets empty, private copies of (tmpfs in its own mount namespace): /run holds
 * unix sockets iptables cannot see (Postgres's, with `local trust`; Docker's; MariaDB's), and the
 * temporary folders would otherwise let it leave files for, or read files of, other users.
 * tmpfs pages count against the sandbox's memory limit, so they cannot fill the host either.
 */
export const PRIVATE_DIRS = [
  { path: "/run", mode: "0755" },
  { path: "/tmp", mode: "1777" },
  { path: "/var/tmp", mode: "1777" },
  { path: "/dev/shm", mode: "1777" },
] as const;

export interface LaunchOptions {
  /** The cgroup.procs files to join, one per controller. */
  cgroupProcs: string[];
  uid: number;
  /**
   * Mounted read-only in the manager's namespace (its home): with /tmp and the rest private tmpfs,
   * it can then write nowhere on disk, only into memory its limit counts.
   */
  readOnly: string[];
  setpriv: string;
  unshare: string;
  command: string;
  args: string[];
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * The manager's command line, in steps that each exec the next, so its pid never changes: a root
 * shell joins the cgroups (so nothing it starts is ever outside them), unshare gives it a mount
 * namespace, a second shell mounts the private folders, and setpriv drops to the sandbox uid with
 * no capabilities and no way to gain privileges (setuid binaries included) before exec'ing it.
 */
export function launchCommand(options: LaunchOptions): { command: string; args: string[] } {
  const join = options.cgroupProcs.map((p) => `echo $$ > ${quote(p)} || exit 125`).join("; ");
  const mounts = [
    ...PRIVATE_DIRS.map((d) => `mount -t tmpfs -o mode=${d.mode},nosuid,nodev,size=256m labgrader-sandbox ${d.path}`),
    ...options.readOnly.map(quote).flatMap((dir) => [`mount --bind ${dir} ${dir}`, `mount -o remount,bind,ro ${dir}`]),
  ].join(" && ");
  const drop = [options.setpriv, `--reuid=${options.uid}`, `--regid=${options.uid}`, "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"];
  return {
    command: "/bin/sh",
    args: [
      "-c",
      `${join}; ulimit -c 0; exec "$@"`,
      "sh",
      options.unshare,
      "--mount",
      "--propagation",
      "private",
      "--",
      "/bin/sh",
      "-c",
      `${mounts} || exit 125; exec "$@"`,
      "sh",
      ...drop,
      options.command,
      ...options.args,
    ],
  };
}
