import type { KubeObject } from "../engine/trace.ts";

/** A kind a lab declares: CRDs may define these and no others. */
export interface DeclaredKind {
  apiVersion: string;
  kind: string;
}

export interface CrdReview {
  /** The CRDs to install, as the project has them. */
  kept: KubeObject[];
  /** One sentence per CRD left out. */
  findings: string[];
}

interface CrdShape {
  spec?: { group?: unknown; names?: { kind?: unknown }; conversion?: { strategy?: unknown } };
}

/**
 * The project's CRDs are installed by the grader, as admin: only those that define a kind the lab
 * declares, in its group, are; a CRD for anything else (another group, a kind the lab does not
 * know) is left out, and so is one with a conversion webhook (the API server would call whatever
 * address it names). Leaving one out is a finding; the checks then say what is missing.
 */
export function reviewCrds(crds: KubeObject[], declared: DeclaredKind[]): CrdReview {
  const kept: KubeObject[] = [];
  const findings: string[] = [];
  for (const crd of crds) {
    const spec = (crd as KubeObject & CrdShape).spec;
    const group = typeof spec?.group === "string" ? spec.group : "";
    const kind = typeof spec?.names?.kind === "string" ? spec.names.kind : "";
    const name = `CustomResourceDefinition ${crd.metadata.name}`;
    // Kubernetes' own groups (core, apps, *.k8s.io) are never a CRD's, even for a kind the lab records.
    const own = !group.includes(".") || /(^|\.)(k8s|kubernetes)\.io$/.test(group);
    if (own || !declared.some((d) => d.kind === kind && d.apiVersion.split("/")[0] === group)) {
      findings.push(
        `${name} defines ${kind || "no kind"} in ${group || "no group"}, which this lab does not use; labgrader installs only the lab's own kinds, so it was left out.`,
      );
      continue;
    }
    if (spec?.conversion?.strategy === "Webhook") {
      findings.push(
        `${name} converts versions through a webhook; labgrader never lets the API server call out of the cluster, so it was left out.`,
      );
      continue;
    }
    kept.push(crd);
  }
  return { kept, findings };
}
