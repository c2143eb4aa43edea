import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deletionsFor, firewallRules } from "./sandbox-firewall.ts";
import { launchCommand, POD_NAMESPACE_FILE, SANDBOX_SETUP_FAILED } from "./sandbox-launch.ts";
import { ownIdentity } from "../process/liveness.ts";
import {
  allocateUid,
  candidateUids,
  claimUidRange,
  formatOwner,
  lockDir,
  ownerAlive,
  parseOwner,
  releaseUid,
  staleUids,
} from "./sandbox-uids.ts";

const root = () => mkdtempSync(join(tmpdir(), "labgrader-sandbox-unit-"));
const dead = { pid: 2 ** 22 + 17, startTicks: "1" };

describe("sandbox uids", () => {
  it("tries every uid of the range once, starting at the offset", () => {
    expect(candidateUids(100, 103, 2)).toEqual([102, 103, 100, 101]);
    expect(candidateUids(100, 103, 7)).toEqual([103, 100, 101, 102]);
  });

  it.each([
    { text: "123 456\n", owner: { pid: 123, startTicks: "456" } },
    { text: "", owner: undefined },
    { text: "123", owner: undefined },
  ])("reads the lock text $text", ({ text, owner }) => {
    expect(parseOwner(text)).toEqual(owner);
  });

  it("takes an owner for alive only when its pid runs with the same start time", () => {
    const self = ownIdentity();
    expect(ownerAlive(self)).toBe(true);
    expect(ownerAlive({ ...self, startTicks: `${self.startTicks}1` })).toBe(false);
    expect(ownerAlive(dead)).toBe(false);
    expect(ownerAlive(undefined)).toBe(false);
  });

  it("never hands one uid to two owners, and fails when the range is used up", async () => {
    const dir = root();
    const first = await allocateUid(dir, { first: 5000, last: 5001 }, async () => undefined);
    const second = await allocateUid(dir, { first: 5000, last: 5001 }, async () => undefined);
    expect(new Set([first, second])).toEqual(new Set([5000, 5001]));
    await expect(allocateUid(dir, { first: 5000, last: 5001 }, async () => undefined)).rejects.toThrow(
      "every sandbox uid from 5000 to 5001 is in use",
    );
    expect(readFileSync(join(lockDir(dir), String(first)), "utf8")).toBe(formatOwner(ownIdentity()));
    await releaseUid(dir, first);
    expect(await allocateUid(dir, { first: 5000, last: 5001 }, async () => undefined)).toBe(first);
  });

  it("reuses a dead owner's uid after cleaning up after it, and leaves a live owner's alone", async () => {
    const dir = root();
    await allocateUid(dir, { first: 5000, last: 5000 }, async () => undefined);
    await releaseUid(dir, 5000);
    writeFileSync(join(lockDir(dir), "5000"), formatOwner(dead));
    writeFileSync(join(lockDir(dir), "5001"), formatOwner(ownIdentity()));
    expect(await staleUids(dir)).toEqual([5000]);
    const cleaned: number[] = [];
    const uid = await allocateUid(dir, { first: 5000, last: 5001 }, async (u) => void cleaned.push(u));
    expect(uid).toBe(5000);
    expect(cleaned).toEqual([5000]);
    expect(await staleUids(dir)).toEqual([]);
    expect(readdirSync(lockDir(dir)).sort()).toEqual(["5000", "5001"]);
  });

  it("gives concurrent allocations in one process different uids", async () => {
    const dir = root();
    const uids = await Promise.all(
      Array.from({ length: 8 }, () => allocateUid(dir, { first: 5000, last: 5007 }, async () => undefined)),
    );
    expect(new Set(uids).size).toBe(8);
  });

  it("does not take a uid another worker is reaping", async () => {
    const dir = root();
    await allocateUid(dir, { first: 5000, last: 5000 }, async () => undefined);
    writeFileSync(join(lockDir(dir), "5000"), formatOwner(dead));
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(lockDir(dir), "5000.reaping"));
    await expect(allocateUid(dir, { first: 5000, last: 5000 }, async () => undefined)).rejects.toThrow("in use");
  });
});

describe("sandbox firewall rules", () => {
  const rules = firewallRules(62001, [
    { address: "127.0.0.1", port: 41234 },
    { address: "::1", port: 41234 },
  ]);

  it("accepts only the API server, then resets TCP and rejects the rest, all for the sandbox uid only", () => {
    const text = (family: 4 | 6) => rules[family].map((r) => r.join(" "));
    expect(text(4)).toEqual([
      "-m owner --uid-owner 62001 -m comment --comment labgrader-uid-62001 -p tcp -d 127.0.0.1 --dport 41234 -j ACCEPT",
      "-m owner --uid-owner 62001 -m comment --comment labgrader-uid-62001 -p tcp -j REJECT --reject-with tcp-reset",
      "-m owner --uid-owner 62001 -m comment --comment labgrader-uid-62001 -j REJECT",
    ]);
    expect(text(6)[0]).toContain("-d ::1 --dport 41234 -j ACCEPT");
    for (const rule of [...rules[4], ...rules[6]]) expect(rule.join(" ")).toContain("--uid-owner 62001");
  });

  it("deletes exactly one uid's rules from an iptables -S listing", () => {
    const listing = [
      "-N LABGRADER-SANDBOX",
      "-A LABGRADER-SANDBOX -d 127.0.0.1/32 -p tcp -m owner --uid-owner 62001 -m comment --comment labgrader-uid-62001 -m tcp --dport 41234 -j ACCEPT",
      "-A LABGRADER-SANDBOX -m owner --uid-owner 62010 -m comment --comment labgrader-uid-62010 -j REJECT --reject-with icmp-port-unreachable",
      "-A LABGRADER-SANDBOX -m owner --uid-owner 62001 -m comment --comment labgrader-uid-62001 -j REJECT --reject-with icmp-port-unreachable",
      "-A LABGRADER-SANDBOX -m owner --uid-owner 620011 -m comment --comment labgrader-uid-620011 -j REJECT --reject-with icmp-port-unreachable",
    ].join("\n");
    const deletions = deletionsFor(62001, listing);
    expect(deletions).toHaveLength(2);
    expect(
      deletions.every((d) => d[0] === "-D" && d[1] === "LABGRADER-SANDBOX" && d.includes("labgrader-uid-62001")),
    ).toBe(true);
  });
});

describe("sandbox launch", () => {
  const { command, args } = launchCommand({
    cgroupProcs: ["/sys/fs/cgroup/memory/labgrader/lg-62001/cgroup.procs", "/sys/fs/cgroup/pids/it's/cgroup.procs"],
    uid: 62001,
    readOnly: ["/var/lib/labgrader/sandbox/home/lg-62001"],
    setpriv: "/usr/bin/setpriv",
    unshare: "/usr/bin/unshare",
    command: "/var/lib/labgrader/sandbox/home/lg-62001/manager",
    args: ["--kubeconfig=/var/lib/labgrader/sandbox/home/lg-62001/kubeconfig"],
  });

  it("joins the cgroups as root, then unshares mounts, hides /run and the temporary folders, and drops to the uid last", () => {
    expect(command).toBe("/bin/sh");
    expect(args[1]).toBe(
      `echo $$ > '/sys/fs/cgroup/memory/labgrader/lg-62001/cgroup.procs' || exit 125; echo $$ > '/sys/fs/cgroup/pids/it'\\''s/cgroup.procs' || exit 125; ulimit -c 0; exec "$@"`,
    );
    const order = [
      "/usr/bin/unshare",
      "/bin/sh",
      "/usr/bin/setpriv",
      "/var/lib/labgrader/sandbox/home/lg-62001/manager",
    ].map((a) => args.indexOf(a));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.every((i) => i > 1)).toBe(true);
    const mounts = args[args.indexOf("/bin/sh") + 2]!;
    for (const dir of ["/run", "/tmp", "/var/tmp", "/dev/shm"])
      expect(mounts).toContain(`labgrader-sandbox ${dir} `.trimEnd());
    expect(mounts).toContain("mount -o remount,bind,ro '/var/lib/labgrader/sandbox/home/lg-62001'");
    expect(args.slice(args.indexOf("/usr/bin/setpriv"))).toEqual([
      "/usr/bin/setpriv",
      "--reuid=62001",
      "--regid=62001",
      "--clear-groups",
      "--no-new-privs",
      "--inh-caps=-all",
      "--bounding-set=-all",
      "--",
      "/var/lib/labgrader/sandbox/home/lg-62001/manager",
      "--kubeconfig=/var/lib/labgrader/sandbox/home/lg-62001/kubeconfig",
    ]);
  });

  it("relays each allowed address from the loopback of its own network namespace, and runs the command under the seccomp helper", () => {
    const relayed = launchCommand({
      cgroupProcs: [],
      uid: 62001,
      readOnly: [],
      network: {
        relays: [
          { host: "127.0.0.1", port: 6443, socket: "/h/api.sock" },
          { host: "203.0.113.80", port: 443, socket: "/h/net-0.sock" },
          { host: "2001:db8::1", port: 443, socket: "/h/net-1.sock" },
        ],
        socat: "/usr/bin/socat",
        ip: "/usr/sbin/ip",
        ss: "/usr/bin/ss",
      },
      seccomp: "/var/lib/labgrader/sandbox/bin/labgrader-seccomp",
      setpriv: "/usr/bin/setpriv",
      unshare: "/usr/bin/unshare",
      command: "/usr/local/go/bin/go",
      args: ["build"],
    });
    expect(relayed.args).toContain("--net");
    const inside = relayed.args[relayed.args.indexOf("/bin/sh") + 2]!;
    expect(inside).toContain("'/usr/sbin/ip' addr add '203.0.113.80/32' dev lo");
    expect(inside).toContain("'/usr/sbin/ip' -6 addr add '2001:db8::1/128' dev lo nodad");
    expect(inside).not.toContain("127.0.0.1/32");
    expect(inside).toContain("'TCP-LISTEN:6443,bind=127.0.0.1,fork,reuseaddr' 'UNIX-CONNECT:/h/api.sock'");
    expect(inside).toContain("'TCP-LISTEN:443,bind=203.0.113.80,fork,reuseaddr' 'UNIX-CONNECT:/h/net-0.sock'");
    expect(inside).toContain("'TCP6-LISTEN:443,bind=[2001:db8::1],fork,reuseaddr' 'UNIX-CONNECT:/h/net-1.sock'");
    expect(inside).toContain("-ge 3 ]");
    // Every socat runs as the uid; the command runs as the uid under the filter.
    expect(inside.match(/'--reuid=62001'/g)).toHaveLength(3);
    expect(relayed.args.slice(-4)).toEqual([
      "--",
      "/var/lib/labgrader/sandbox/bin/labgrader-seccomp",
      "/usr/local/go/bin/go",
      "build",
    ]);
  });

  it("exits with its own code, before the command runs, when a cgroup it must join is gone", () => {
    const dir = root();
    const marker = join(dir, "ran");
    const gone = launchCommand({
      cgroupProcs: [join(dir, "lg-62001", "cgroup.procs")],
      uid: 62001,
      readOnly: [],
      setpriv: "/usr/bin/setpriv",
      unshare: "/usr/bin/unshare",
      command: "/usr/bin/touch",
      args: [marker],
    });
    const run = spawnSync(gone.command, gone.args, { encoding: "utf8" });
    expect(run.status).toBe(SANDBOX_SETUP_FAILED);
    expect(run.stderr).toMatch(/cgroup\.procs/);
    expect(existsSync(marker)).toBe(false);
  });
  it("gives a manager that plays a pod the pod's hostname and namespace file, and the host keeps its own", () => {
    // A plain file stands in for the cgroup to join: what is tested is the namespaces.
    const played = launchCommand({
      cgroupProcs: [join(root(), "cgroup.procs")],
      uid: 62001,
      readOnly: [],
      pod: { name: "postgres-operator-controller-manager-5d8f7-x2x9q", namespace: "it's-system" },
      setpriv: "/usr/bin/setpriv",
      unshare: "/usr/bin/unshare",
      command: "/bin/sh",
      args: [
        "-c",
        `cat /proc/sys/kernel/hostname; cat ${POD_NAMESPACE_FILE}; echo; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace`,
      ],
    });
    const run = spawnSync(played.command, played.args, { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.stdout.split("\n")).toEqual([
      "postgres-operator-controller-manager-5d8f7-x2x9q",
      "it's-system",
      "it's-system",
    ]);
    expect(hostname()).not.toBe("postgres-operator-controller-manager-5d8f7-x2x9q");
    expect(existsSync(POD_NAMESPACE_FILE)).toBe(false);
  });
});

describe("sandbox uid ranges across installations", () => {
  it("refuses a range that overlaps another installation's, names it, and forgets installations that are gone", async () => {
    const claims = root();
    const [a, b, gone] = [root(), root(), join(root(), "removed")];
    await claimUidRange(a, { first: 62000, last: 62999 }, claims);
    await claimUidRange(a, { first: 62000, last: 62999 }, claims); // the same installation again
    await claimUidRange(b, { first: 63000, last: 63999 }, claims); // beside it
    await expect(claimUidRange(b, { first: 62900, last: 63100 }, claims)).rejects.toThrow(
      new RegExp(
        `the sandbox uids 62900-63100 overlap 62000-62999, those of the installation whose sandbox root is ${a}; give each installation`,
      ),
    );
    await claimUidRange(gone, { first: 64000, last: 64999 }, claims);
    expect(readdirSync(claims)).toHaveLength(3);
    await claimUidRange(b, { first: 64500, last: 64600 }, claims); // the root of "gone" does not exist: its claim goes
    expect(readdirSync(claims)).toHaveLength(2);
  });
});
