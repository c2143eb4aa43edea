import { describe, expect, it } from "vitest";
import type { KubeObject } from "../engine/trace.ts";
import { readCrds } from "./project.ts";
import { REFERENCE_OPERATOR_DIR } from "./reference.ts";
import { reviewCrds } from "./crd-review.ts";

const declared = [
  { apiVersion: "database.example.com/v1", kind: "Database" },
  { apiVersion: "database.example.com/v1", kind: "Backup" },
  { apiVersion: "apps/v1", kind: "StatefulSet" },
];
const crd = (group: string, kind: string, conversion?: Record<string, unknown>): KubeObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${kind.toLowerCase()}s.${group}` },
  spec: { group, names: { kind, plural: `${kind.toLowerCase()}s` }, ...(conversion ? { conversion } : {}) },
});

describe("CRD review", () => {
  it("installs the reference operator's CRDs as they are", async () => {
    const crds = await readCrds(REFERENCE_OPERATOR_DIR);
    expect(reviewCrds(crds, declared)).toEqual({ kept: crds, findings: [] });
  });

  it.each([
    {
      name: "another group",
      crd: crd("evil.example.com", "Backup"),
      finding: /backups\.evil\.example\.com defines Backup in evil\.example\.com, which this lab does not use/,
    },
    {
      name: "a kind the lab does not declare",
      crd: crd("database.example.com", "Restore"),
      finding: /defines Restore in database\.example\.com/,
    },
    { name: "a group of Kubernetes' own", crd: crd("apps", "StatefulSet"), finding: /defines StatefulSet in apps/ },
    {
      name: "a conversion webhook",
      crd: crd("database.example.com", "Backup", {
        strategy: "Webhook",
        webhook: { clientConfig: { url: "https://127.0.0.1:2379/" } },
      }),
      finding: /converts versions through a webhook/,
    },
  ])("leaves out a CRD for $name, saying so", ({ crd: c, finding }) => {
    const review = reviewCrds([c], declared);
    expect(review.kept).toEqual([]);
    expect(review.findings).toEqual([expect.stringMatching(finding)]);
  });
});
