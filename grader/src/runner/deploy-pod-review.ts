import type { KubeObject } from "../engine/trace.ts";
import { DeployManifestError } from "./deploy-error.ts";

/** The uid labgrader's manager image runs as (distroless' nonroot, as the scaffold's Dockerfile). */
export const MANAGER_UID = 65532;

export interface ManagerPodOptions {
  /** The operator's namespace: the Deployment is created there. */
  namespace: string;
  /** The manager image labgrader built and loaded into the cluster. */
  image: string;
  /** Flags appended to the manager's own. */
  managerArgs: string[];
  /** The ServiceAccounts the plan creates in the namespace: the manager must run as one of them. */
  serviceAccounts: ReadonlySet<string>;
  /**
   * The Deployment's replicas and leader election kept as written (up to MAX_REPLICAS), for a lab
   * about running several managers; otherwise one manager, leader election off.
   */
  keepReplicas?: boolean;
}

/** The most managers one grade runs when a lab keeps the project's replicas. */
export const MAX_REPLICAS = 5;

export interface ManagerDeployment {
  deployment: KubeObject;
  /** The manager container's name. */
  container: string;
  serviceAccount: string;
  /** One readable sentence per thing left out or changed. */
  findings: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const asObject = (v: unknown): Json => (isObject(v) ? v : {});
const asList = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
/** Whether a field says anything: false, empty lists and empty objects ask for nothing. */
const isSet = (v: unknown) =>
  v !== undefined &&
  v !== null &&
  v !== false &&
  !(Array.isArray(v) && v.length === 0) &&
  !(isObject(v) && Object.keys(v).length === 0);
const omit = (o: Json, key: string): Json => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

/** Volumes that reach nothing outside the pod and its own namespace's objects. */
const VOLUME_TYPES = new Set(["emptyDir", "configMap", "secret", "projected", "downwardAPI"]);
const PROJECTED_SOURCES = new Set(["configMap", "secret", "downwardAPI", "serviceAccountToken"]);
/** Pod fields kept as written: scheduling and lifecycle settings that reach nothing outside the pod. */
const KEPT_POD_FIELDS = new Set([
  "terminationGracePeriodSeconds",
  "affinity",
  "nodeSelector",
  "tolerations",
  "topologySpreadConstraints",
  "automountServiceAccountToken",
  "enableServiceLinks",
  "restartPolicy",
  "dnsPolicy",
]);
/** Pod fields reviewed below rather than kept or left out whole. */
const REVIEWED_POD_FIELDS = new Set([
  "containers",
  "initContainers",
  "ephemeralContainers",
  "volumes",
  "securityContext",
  "serviceAccountName",
  "serviceAccount",
  "hostNetwork",
  "hostPID",
  "hostIPC",
]);
const KEPT_CONTAINER_FIELDS = new Set([
  "name",
  "command",
  "args",
  "env",
  "envFrom",
  "ports",
  "resources",
  "volumeMounts",
  "workingDir",
  "terminationMessagePath",
  "terminationMessagePolicy",
  "livenessProbe",
  "readinessProbe",
  "startupProbe",
  "lifecycle",
  "stdin",
  "stdinOnce",
  "tty",
  "resizePolicy",
]);
/** The grade waits this long at most for the manager to stop once its Deployment is deleted. */
const MAX_GRACE_SECONDS = 30;

function managerIndex(containers: Json[], where: string): number {
  const named = containers.findIndex((c) => c.name === "manager");
  if (named >= 0) return named;
  const runsManager = containers.findIndex((c) => Array.isArray(c.command) && c.command.includes("/manager"));
  if (runsManager >= 0) return runsManager;
  if (containers.length === 1) return 0;
  throw new DeployManifestError(
    `${where} has no container named "manager" (the kubebuilder scaffold's), so labgrader cannot tell which container runs the operator`,
  );
}

/** A probe or lifecycle hook may name another host: the kubelet would then connect to it from the node. */
function withoutHost(handler: unknown, what: string, where: string, findings: string[]): unknown {
  if (!isObject(handler)) return handler;
  let out = handler;
  for (const action of ["httpGet", "tcpSocket"]) {
    const target = out[action];
    if (!isObject(target) || !isSet(target.host)) continue;
    findings.push(
      `${where}: the manager's ${what} names the host ${String(target.host)}; the kubelet would connect there from the node, so labgrader probes the pod itself.`,
    );
    out = { ...out, [action]: omit(target, "host") };
  }
  return out;
}

function podSecurityContext(sc: Json, where: string, findings: string[]): Json {
  const kept = [
    "runAsGroup",
    "fsGroup",
    "fsGroupChangePolicy",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "seLinuxChangePolicy",
  ];
  const out: Json = Object.fromEntries(kept.filter((k) => sc[k] !== undefined).map((k) => [k, sc[k]]));
  if (sc.runAsNonRoot === false)
    findings.push(
      `${where} sets runAsNonRoot: false; labgrader runs the manager as a non-root user only, so it is true.`,
    );
  out.runAsNonRoot = true;
  if (sc.runAsUser === 0)
    findings.push(
      `${where} runs the manager as root (runAsUser: 0); labgrader runs it as uid ${MANAGER_UID}, as its image does.`,
    );
  out.runAsUser = typeof sc.runAsUser === "number" && sc.runAsUser > 0 ? sc.runAsUser : MANAGER_UID;
  const seccomp = asObject(sc.seccompProfile).type;
  if (seccomp !== undefined && seccomp !== "RuntimeDefault")
    findings.push(
      `${where} asks for the seccomp profile ${String(seccomp)}; labgrader runs the manager with the runtime's default profile (RuntimeDefault).`,
    );
  out.seccompProfile = { type: "RuntimeDefault" };
  if (asObject(sc.appArmorProfile).type === "RuntimeDefault") out.appArmorProfile = { type: "RuntimeDefault" };
  else if (isSet(sc.appArmorProfile))
    findings.push(`${where} asks for an AppArmor profile other than the runtime's default; it was left out.`);
  for (const key of ["sysctls", "seLinuxOptions", "windowsOptions"]) {
    if (isSet(sc[key]))
      findings.push(
        `${where}: the pod's securityContext.${key} was left out; labgrader does not let the manager change its kernel settings or security labels.`,
      );
  }
  return out;
}

function containerSecurityContext(sc: Json, where: string, findings: string[]): Json {
  const out: Json = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
  if (sc.privileged === true)
    findings.push(`${where} asks to run the manager privileged; labgrader never does, so it runs unprivileged.`);
  if (sc.allowPrivilegeEscalation === true)
    findings.push(
      `${where} lets the manager gain privileges (allowPrivilegeEscalation: true); labgrader sets it to false.`,
    );
  const added = asObject(sc.capabilities).add;
  if (isSet(added))
    findings.push(
      `${where} adds the capabilities ${(Array.isArray(added) ? added : [added]).map(String).join(", ")}; labgrader drops every capability (drop: ALL), so they were left out.`,
    );
  if (typeof sc.readOnlyRootFilesystem === "boolean") out.readOnlyRootFilesystem = sc.readOnlyRootFilesystem;
  if (typeof sc.runAsUser === "number" && sc.runAsUser > 0) out.runAsUser = sc.runAsUser;
  else if (sc.runAsUser === 0)
    findings.push(
      `${where} runs the manager container as root (runAsUser: 0); labgrader runs it as uid ${MANAGER_UID}, as its image does.`,
    );
  if (typeof sc.runAsGroup === "number") out.runAsGroup = sc.runAsGroup;
  // runAsNonRoot and seccompProfile are the pod's (true, RuntimeDefault): a container's own could only loosen them.
  if (sc.runAsNonRoot === false)
    findings.push(
      `${where} sets runAsNonRoot: false on the manager container; labgrader runs it as a non-root user only.`,
    );
  const seccomp = asObject(sc.seccompProfile).type;
  if (seccomp !== undefined && seccomp !== "RuntimeDefault")
    findings.push(
      `${where} asks for the seccomp profile ${String(seccomp)} for the manager container; labgrader runs it with the runtime's default profile (RuntimeDefault).`,
    );
  if (sc.procMount !== undefined && sc.procMount !== "Default")
    findings.push(`${where} asks for an unmasked /proc (procMount: ${String(sc.procMount)}); it was left out.`);
  for (const key of ["seLinuxOptions", "windowsOptions", "appArmorProfile"]) {
    if (isSet(sc[key]) && asObject(sc[key]).type !== "RuntimeDefault")
      findings.push(
        `${where}: the manager container's securityContext.${key} was left out; labgrader does not let the manager change its security labels.`,
      );
  }
  return out;
}

function managerContainer(c: Json, where: string, options: ManagerPodOptions, findings: string[]): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(c)) {
    if (KEPT_CONTAINER_FIELDS.has(key)) out[key] = value;
    else if (!["image", "imagePullPolicy", "securityContext"].includes(key) && isSet(value))
      findings.push(
        `${where}: the manager container's ${key} was left out; labgrader runs the manager with only its command, arguments, environment, ports, probes, resources and mounts.`,
      );
  }
  out.name = typeof c.name === "string" && c.name !== "" ? c.name : "manager";
  out.image = options.image;
  // Nothing can be pulled: the image is in the node already (kind load), as the course's Task 4.1 loads it.
  out.imagePullPolicy = "IfNotPresent";
  // One replica needs no leader election, and on a busy grading host a lease renewal that misses its
  // deadline makes a correct manager exit: the platform's fault would look like the learner's. Host
  // managers get --leader-elect=false too (manager.ts); here it replaces the scaffold's flag.
  // A lab about several managers keeps the flag: electing a leader is what it grades.
  const args = Array.isArray(c.args)
    ? c.args.map((a) =>
        !options.keepReplicas && (a === "--leader-elect" || a === "--leader-elect=true") ? "--leader-elect=false" : a,
      )
    : [];
  if (args.length > 0 || options.managerArgs.length > 0) out.args = [...args, ...options.managerArgs];
  if (Array.isArray(c.ports)) {
    out.ports = asList(c.ports).map((p) => {
      if (!isSet(p.hostPort) && !isSet(p.hostIP)) return p;
      findings.push(
        `${where}: the manager's port ${String(p.containerPort)} asks for a port on the node (hostPort); labgrader opens no node port, so it was left out.`,
      );
      return omit(omit(p, "hostPort"), "hostIP");
    });
  }
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"])
    if (isObject(out[probe])) out[probe] = withoutHost(out[probe], probe, where, findings);
  if (isObject(out.lifecycle)) {
    const hooks = out.lifecycle;
    out.lifecycle = Object.fromEntries(
      Object.entries(hooks).map(([hook, handler]) => [hook, withoutHost(handler, `${hook} hook`, where, findings)]),
    );
  }
  if (Array.isArray(c.volumeMounts)) {
    out.volumeMounts = asList(c.volumeMounts).map((m) => {
      if (m.mountPropagation === undefined || m.mountPropagation === "None") return m;
      findings.push(
        `${where}: the manager's mount ${String(m.mountPath)} asks for mount propagation (${String(m.mountPropagation)}); it was left out.`,
      );
      return omit(m, "mountPropagation");
    });
  }
  out.securityContext = containerSecurityContext(asObject(c.securityContext), where, findings);
  return out;
}

/** A volume that could reach the node or another namespace cannot be made safe: the deploy is refused. */
function checkVolumes(volumes: Json[], where: string): void {
  const allowed = [...VOLUME_TYPES].join(", ");
  for (const volume of volumes) {
    const types = Object.keys(volume).filter((k) => k !== "name");
    const refused = types.find((t) => !VOLUME_TYPES.has(t));
    if (refused)
      throw new DeployManifestError(
        `${where} mounts a ${refused} volume ("${String(volume.name)}"); labgrader runs the manager with only ${allowed} volumes, so the operator was not deployed`,
      );
    for (const source of asList(asObject(volume.projected).sources)) {
      const kind = Object.keys(source).find((k) => !PROJECTED_SOURCES.has(k));
      if (kind)
        throw new DeployManifestError(
          `${where} projects a ${kind} into the volume "${String(volume.name)}"; labgrader projects only ${[...PROJECTED_SOURCES].join(", ")}, so the operator was not deployed`,
        );
    }
  }
}

/** How many managers run: one, or as the Deployment asks when kept (1 when it does not say, at most MAX_REPLICAS). */
function replicasOf(asked: unknown, where: string, keep: boolean, findings: string[]): number {
  if (!keep) {
    if (asked !== undefined && asked !== 1)
      findings.push(`${where} asks for ${String(asked)} replicas; labgrader runs one manager.`);
    return 1;
  }
  if (asked === undefined) return 1;
  if (typeof asked !== "number" || !Number.isInteger(asked) || asked < 0)
    throw new DeployManifestError(`${where} asks for ${JSON.stringify(asked)} replicas, which is not a whole number`);
  if (asked <= MAX_REPLICAS) return asked;
  findings.push(`${where} asks for ${asked} replicas; labgrader runs ${MAX_REPLICAS} managers at most.`);
  return MAX_REPLICAS;
}

/**
 * The manager's Deployment as labgrader creates it, from an allow-list: one replica (or, for a lab
 * about several managers, the replicas it asks for), one container
 * (the manager, with labgrader's image), no host namespaces, ports or volumes, running as non-root
 * with no capabilities and the runtime's seccomp profile (Pod Security `restricted`), under one of
 * the project's own ServiceAccounts. What is changed or left out is a finding; what cannot be made
 * safe (a host volume, a ServiceAccount the project does not create) refuses the deployment.
 */
export function reviewManagerDeployment(deployment: KubeObject, options: ManagerPodOptions): ManagerDeployment {
  const findings: string[] = [];
  const where = `Deployment ${options.namespace}/${deployment.metadata.name}`;
  const spec = asObject((deployment as { spec?: unknown }).spec);
  const template = asObject(spec.template);
  const pod = asObject(template.spec);
  const containers = asList(pod.containers);
  const index = managerIndex(containers, where);
  for (const [i, c] of containers.entries())
    if (i !== index)
      findings.push(
        `${where}: the container "${String(c.name)}" was left out; labgrader runs the manager alone, in one container with the image it built.`,
      );
  for (const field of ["initContainers", "ephemeralContainers"]) {
    for (const c of asList(pod[field]))
      findings.push(
        `${where}: the ${field === "initContainers" ? "init container" : "ephemeral container"} "${String(c.name)}" was left out; labgrader runs the manager alone, in one container with the image it built.`,
      );
  }
  const volumes = asList(pod.volumes);
  checkVolumes(volumes, where);

  const serviceAccount = pod.serviceAccountName ?? pod.serviceAccount;
  if (typeof serviceAccount !== "string" || serviceAccount === "" || serviceAccount === "default") {
    throw new DeployManifestError(
      `${where} names no ServiceAccount of the project's own (serviceAccountName), so its manager would run as the namespace's "default"; name the ServiceAccount config/rbac creates, as the scaffold does`,
    );
  }
  if (!options.serviceAccounts.has(serviceAccount)) {
    throw new DeployManifestError(
      `${where} runs its manager as the ServiceAccount "${serviceAccount}", which config/default does not create in ${options.namespace}; labgrader runs the manager only as the project's own ServiceAccount`,
    );
  }

  const podOut: Json = {};
  for (const [key, value] of Object.entries(pod)) {
    if (KEPT_POD_FIELDS.has(key)) podOut[key] = value;
    else if (["hostNetwork", "hostPID", "hostIPC"].includes(key)) {
      if (value === true)
        findings.push(
          `${where} asks for ${key}: true; labgrader never lets the manager share the node's namespaces, so it was left out.`,
        );
    } else if (!REVIEWED_POD_FIELDS.has(key) && isSet(value)) {
      findings.push(
        `${where}: spec.template.spec.${key} was left out; labgrader keeps only the manager's container, volumes, security context, ServiceAccount and scheduling settings.`,
      );
    }
  }
  if (
    typeof podOut.terminationGracePeriodSeconds === "number" &&
    podOut.terminationGracePeriodSeconds > MAX_GRACE_SECONDS
  ) {
    findings.push(
      `${where} gives the manager ${podOut.terminationGracePeriodSeconds} s to stop; labgrader waits ${MAX_GRACE_SECONDS} s at most.`,
    );
    podOut.terminationGracePeriodSeconds = MAX_GRACE_SECONDS;
  }
  const manager = containers[index]!;
  podOut.containers = [managerContainer(manager, where, options, findings)];
  if (volumes.length > 0 || Array.isArray(pod.volumes)) podOut.volumes = volumes;
  podOut.securityContext = podSecurityContext(asObject(pod.securityContext), where, findings);
  podOut.serviceAccountName = serviceAccount;

  const templateMeta = asObject(template.metadata);
  const annotations = asObject(templateMeta.annotations);
  const securityAnnotations = Object.keys(annotations).filter((k) => /apparmor|seccomp/i.test(k));
  for (const key of securityAnnotations)
    findings.push(
      `${where}: the pod annotation ${key} was left out; labgrader sets the manager's security profiles itself.`,
    );
  const metadataOut = isSet(templateMeta.annotations)
    ? {
        ...templateMeta,
        annotations: Object.fromEntries(Object.entries(annotations).filter(([k]) => !securityAnnotations.includes(k))),
      }
    : templateMeta;

  const replicas = replicasOf(spec.replicas, where, options.keepReplicas === true, findings);
  const out = {
    ...deployment,
    metadata: { ...deployment.metadata, namespace: options.namespace },
    spec: { ...spec, replicas, template: { ...template, metadata: metadataOut, spec: podOut } },
  } as KubeObject;
  return { deployment: out, container: String(asObject(asList(podOut.containers)[0]).name), serviceAccount, findings };
}
