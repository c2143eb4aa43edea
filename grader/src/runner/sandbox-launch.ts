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
   * Folders that must look empty inside (an empty read-only tmpfs over each): the grader's install
   * (the reference operator, labs, mutants), its caches, other attempts' workspaces.
   */
  hidden?: string[];
  /** Shell commands run as root inside the namespaces before the overlays and binds (e.g. a scratch tmpfs). */
  prepare?: string[];
  /** Overlays to mount before dropping privileges: a read-only shared folder seen with a private writable layer. */
  overlays?: { lower: string; upper: string; work: string; target: string }[];
  /** Folders of the host bound read-only into the sandbox at target. */
  binds?: { source: string; target: string }[];
  /**
   * The pod this process plays (a manager of a Deployment's pod, see pod-bridge.ts): a UTS namespace
   * whose hostname is the pod's name, as a container's is (leader election names its holder after
   * it), and the file in which a pod reads its own namespace (controller-runtime finds its leader
   * election's namespace there), in the private /run.
   */
  pod?: { name: string; namespace: string };
  /** Limits set with `ulimit` before the command starts (file size in 1 KiB blocks, for one). */
  maxFileKiB?: number;
  /**
   * A network namespace of its own whose only ways out are a few TCP addresses: inside, each
   * address is put on the loopback interface, where `socat` (as the sandbox uid) listens on it and
   * relays each connection to a unix socket, which the grader relays on to the real address. The
   * command connects to the address it would anyway (TLS names still match); no other address,
   * interface or abstract socket is reachable.
   */
  network?: {
    relays: NetworkRelay[];
    socat: string;
    ip: string;
    ss: string;
    /**
     * Starts each relay in a session of its own: stopping the command signals its process group,
     * and a manager that shuts down on SIGTERM (a leader releasing its Lease) still reaches its API
     * server, as a container's network outlives its SIGTERM. The relays end with the namespace.
     */
    setsid?: string;
  };
  /**
   * labgrader-seccomp, run as the uid between setpriv and the command: it and everything it starts
   * cannot make user namespaces.
   */
  seccomp?: string;
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

/** One address a sandbox may connect to, and the unix socket the grader relays it through. */
export interface NetworkRelay {
  host: string;
  port: number;
  socket: string;
}

/** The shell commands that, as root in the new network namespace, put one relay in place. */
function relayCommands(relay: NetworkRelay, net: NonNullable<LaunchOptions["network"]>, drop: string[]): string {
  const v6 = relay.host.includes(":");
  const loopback = relay.host === "127.0.0.1" || relay.host === "::1";
  const address = loopback
    ? []
    : [
        `${quote(net.ip)} ${v6 ? "-6 " : ""}addr add ${quote(`${relay.host}/${v6 ? 128 : 32}`)} dev lo${v6 ? " nodad" : ""}`,
      ];
  const listen = v6
    ? `TCP6-LISTEN:${relay.port},bind=[${relay.host}],fork,reuseaddr`
    : `TCP-LISTEN:${relay.port},bind=${relay.host},fork,reuseaddr`;
  const session = net.setsid ? `${quote(net.setsid)} ` : "";
  const socat = `{ ${session}${drop.map(quote).join(" ")} ${quote(net.socat)} -T 86400 ${quote(listen)} ${quote(`UNIX-CONNECT:${relay.socket}`)} </dev/null >/dev/null 2>&1 & }`;
  return [...address, socat].join(" && ");
}

/** The exit code of a sandboxed command whose confinement (cgroups, mounts, relay) could not be set up: the host's fault, never the command's. */
export const SANDBOX_SETUP_FAILED = 125;

/** unshare's options for the manager's own mount (private), pid (with its /proc) and IPC namespaces. */
export const UNSHARE_NAMESPACES = ["--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc", "--ipc"];

/** Where a pod's container reads its namespace (the ServiceAccount volume's `namespace` file). */
export const POD_NAMESPACE_FILE = "/run/secrets/kubernetes.io/serviceaccount/namespace";

/** As root inside the namespaces, once the private /run is mounted: the pod's hostname and namespace file. */
function podCommands(pod: NonNullable<LaunchOptions["pod"]>): string[] {
  const dir = POD_NAMESPACE_FILE.slice(0, POD_NAMESPACE_FILE.lastIndexOf("/"));
  return [
    `echo ${quote(pod.name)} > /proc/sys/kernel/hostname`,
    `mkdir -p ${quote(dir)}`,
    `printf %s ${quote(pod.namespace)} > ${quote(POD_NAMESPACE_FILE)}`,
    `chmod -R a+rX /run/secrets`,
  ];
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * The sandboxed command line, in steps that each exec the next: a root shell joins the cgroups (so
 * nothing it starts is ever outside them); unshare gives it its own mount, PID and IPC namespaces
 * with a /proc of its own (it sees no other process, and its SysV shared memory dies with it), the
 * forked child, a shell, becoming the namespace's first process while unshare waits and passes its exit on;
 * a second shell mounts the private and hidden folders; and setpriv drops to the sandbox uid with no
 * capabilities and no way to gain privileges (setuid binaries included) before exec'ing it.
 */
export function launchCommand(options: LaunchOptions): { command: string; args: string[] } {
  const join = options.cgroupProcs.map((p) => `echo $$ > ${quote(p)} || exit ${SANDBOX_SETUP_FAILED}`).join("; ");
  const mounts = [
    ...PRIVATE_DIRS.map((d) => `mount -t tmpfs -o mode=${d.mode},nosuid,nodev,size=256m labgrader-sandbox ${d.path}`),
    ...(options.pod ? podCommands(options.pod) : []),
    ...(options.prepare ?? []),
    ...(options.overlays ?? []).map(
      (o) =>
        `mount -t overlay -o ${quote(`lowerdir=${o.lower},upperdir=${o.upper},workdir=${o.work},nosuid,nodev`)} labgrader-layer ${quote(o.target)}`,
    ),
    ...(options.binds ?? []).flatMap((b) => [
      `mount --bind ${quote(b.source)} ${quote(b.target)}`,
      `mount -o remount,bind,ro ${quote(b.target)}`,
    ]),
    // Last, once what is mounted from inside them is in place: labgrader's own folders look empty.
    ...(options.hidden ?? [])
      .map(quote)
      .map(
        (dir) => `{ [ ! -d ${dir} ] || mount -t tmpfs -o ro,mode=0755,nosuid,nodev,size=4k labgrader-hidden ${dir}; }`,
      ),
    ...options.readOnly.map(quote).flatMap((dir) => [`mount --bind ${dir} ${dir}`, `mount -o remount,bind,ro ${dir}`]),
  ].join(" && ");
  const limits = `ulimit -c 0${options.maxFileKiB ? `; ulimit -f ${options.maxFileKiB}` : ""}`;
  const drop = [
    options.setpriv,
    `--reuid=${options.uid}`,
    `--regid=${options.uid}`,
    "--clear-groups",
    "--no-new-privs",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--",
  ];
  const net = options.network;
  const relay = net
    ? [
        // The relays listen as the sandbox uid, on their addresses' own ports, whatever their numbers.
        ` && echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start && ${quote(net.ip)} link set lo up`,
        ...net.relays.map((r) => ` && ${relayCommands(r, net, drop)}`),
        // The command starts once every relay listens (its first connection would otherwise be refused).
        ` && i=0 && until [ "$(${quote(net.ss)} -Hltn | grep -c .)" -ge ${net.relays.length} ]; do i=$((i+1)); [ $i -lt 200 ] || exit ${SANDBOX_SETUP_FAILED}; sleep 0.05; done`,
      ].join("")
    : "";
  return {
    command: "/bin/sh",
    args: [
      "-c",
      `${join}; ${limits}; exec "$@"`,
      "sh",
      options.unshare,
      ...UNSHARE_NAMESPACES,
      ...(net ? ["--net"] : []),
      ...(options.pod ? ["--uts"] : []),
      "--",
      "/bin/sh",
      "-c",
      // This shell stays, as the namespace's first process, and waits: how the command ended (a
      // signal shows as 128 + its number) then passes through unshare, which would turn a death by
      // SIGKILL into a plain exit code 1.
      `${mounts}${relay} || exit ${SANDBOX_SETUP_FAILED}; "$@"; exit $?`,
      "sh",
      ...drop,
      ...(options.seccomp ? [options.seccomp] : []),
      options.command,
      ...options.args,
    ],
  };
}
