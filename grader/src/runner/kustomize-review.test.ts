import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  checkKustomizations,
  kustomizationEntries,
  kustomizeEnv,
  remoteOrAbsolute,
  resolveEntry,
  reviewKustomization,
} from "./kustomize-review.ts";

const FILE = "config/default/kustomization.yaml";

describe("a kustomization's entries", () => {
  it.each([
    ["../crd", undefined],
    ["manager_metrics_patch.yaml", undefined],
    ["bases/database.example.com_backups.yaml", undefined],
    ["https://raw.githubusercontent.com/evil/x/main/pod.yaml", "remote (kustomize would fetch it)"],
    ["github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v1.0.6", "remote (kustomize would fetch it)"],
    ["github.com/evil/repo", "remote (kustomize would fetch it)"],
    ["git@github.com:evil/repo.git", "remote (kustomize would fetch it)"],
    ["git::https://example.com/evil/repo", "remote (kustomize would fetch it)"],
    ["ssh://git@example.com/evil/repo", "remote (kustomize would fetch it)"],
    ["gh:evil/repo", "remote (kustomize would fetch it)"],
    ["example.com/evil/repo", "remote (kustomize would fetch it)"],
    ["../base?ref=main", "remote (kustomize would fetch it)"],
    ["repo.tar.gz//sub", "remote (kustomize would fetch it)"],
    ["dev.azure.com/org/project/_git/repo", "remote (kustomize would fetch it)"],
    ["/etc/kubernetes/admin.conf", "an absolute path"],
    ["~/.kube/config", "an absolute path"],
  ])("%s is %s", (value, why) => {
    expect(remoteOrAbsolute(value)).toBe(why);
  });

  it.each([
    ["config/default", "../crd", "config/crd"],
    ["config/default", "../../config/rbac", "config/rbac"],
    ["config/default", "../../..", undefined],
    ["config/default", "../../../root/.ssh/id_rsa", undefined],
    ["config/default", "a/../../../../x", undefined],
  ])("from %s, %s resolves to %s", (dir, value, resolved) => {
    expect(resolveEntry(dir, value)).toBe(resolved);
  });

  it("reads every field that names a file or a folder, and no inline patch", () => {
    const entries = kustomizationEntries({
      resources: ["a.yaml"],
      bases: ["../b"],
      components: ["../c"],
      crds: ["crd.json"],
      configurations: ["conf.yaml"],
      patchesStrategicMerge: ["p.yaml", "apiVersion: v1\nkind: ConfigMap\n"],
      patches: [{ path: "patch.yaml" }, { patch: "- op: remove\n  path: /x" }],
      patchesJson6902: [{ path: "json.yaml" }],
      replacements: [{ path: "r.yaml" }],
      openapi: { path: "schema.json" },
      configMapGenerator: [{ files: ["key=cm.txt", "plain.txt"], envs: ["cm.env"] }],
      secretGenerator: [{ env: "s.env" }],
    });
    expect(entries.map((e) => e.value)).toEqual([
      "a.yaml",
      "../b",
      "../c",
      "crd.json",
      "conf.yaml",
      "p.yaml",
      "patch.yaml",
      "json.yaml",
      "r.yaml",
      "schema.json",
      "cm.txt",
      "plain.txt",
      "cm.env",
      "s.env",
    ]);
  });

  it.each([
    {
      name: "a remote resource",
      kustomization: { resources: ["../crd", "github.com/evil/repo//config?ref=main"] },
      finding: `${FILE}: resources entry "github.com/evil/repo//config?ref=main" is remote (kustomize would fetch it); labgrader renders only files inside the project.`,
    },
    {
      name: "a remote base",
      kustomization: { bases: ["https://example.com/base.yaml"] },
      finding: `${FILE}: bases entry "https://example.com/base.yaml" is remote (kustomize would fetch it); labgrader renders only files inside the project.`,
    },
    {
      name: "an escaping component",
      kustomization: { components: ["../../../etc"] },
      finding: `${FILE}: components entry "../../../etc" leaves the project; labgrader renders only files inside the project.`,
    },
    {
      name: "an absolute patch",
      kustomization: { patches: [{ path: "/root/.kube/config" }] },
      finding: `${FILE}: patches[].path entry "/root/.kube/config" is an absolute path; labgrader renders only files inside the project.`,
    },
    {
      name: "a generator reading a host file",
      kustomization: { secretGenerator: [{ name: "x", files: ["kubeconfig=../../../root/.kube/config"] }] },
      finding: `${FILE}: secretGenerator[].files entry "../../../root/.kube/config" leaves the project; labgrader renders only files inside the project.`,
    },
    {
      name: "helm",
      kustomization: { helmCharts: [{ name: "x", repo: "https://charts.example.com" }] },
      finding: `${FILE}: helmCharts asks kustomize to run plugins; labgrader renders only the project's own manifests, patches and ConfigMap or Secret generators.`,
    },
    {
      name: "a transformer plugin",
      kustomization: { transformers: ["exec-fn.yaml"] },
      finding: `${FILE}: transformers asks kustomize to run plugins; labgrader renders only the project's own manifests, patches and ConfigMap or Secret generators.`,
    },
  ])("refuses $name, naming the file and the entry", ({ kustomization, finding }) => {
    expect(reviewKustomization(FILE, kustomization).findings).toEqual([finding]);
  });

  it("gives kustomize no proxy, no credentials and a home of its own", () => {
    const env = kustomizeEnv("/usr/bin:/bin", "/tmp/k-home");
    expect(env).toEqual({
      PATH: "/usr/bin:/bin",
      HOME: "/tmp/k-home",
      XDG_CONFIG_HOME: "/tmp/k-home",
      XDG_CACHE_HOME: "/tmp/k-home",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
      LANG: "C",
    });
  });
});

describe("checkKustomizations", () => {
  const roots: string[] = [];
  const tempRoot = () => {
    const root = mkdtempSync(join(tmpdir(), "kustomize-review-"));
    roots.push(root);
    return root;
  };
  afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));
  const project = (files: Record<string, string>): string => {
    const root = tempRoot();
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  };

  it("finds nothing to refuse in the reference operator's config/", async () => {
    const root = tempRoot();
    cpSync(join(import.meta.dirname, "../../../operator/config"), join(root, "config"), { recursive: true });
    expect(await checkKustomizations(root)).toEqual([]);
  });

  it("follows folders to the kustomizations they hold, and a merge key hides no entry", async () => {
    const root = project({
      "config/default/kustomization.yaml": "resources:\n- ../rbac\n",
      "config/rbac/kustomization.yml": "hidden: &h\n  resources: [https://evil.example.com/x.yaml]\n<<: *h\n",
    });
    expect(await checkKustomizations(root)).toEqual([
      `config/rbac/kustomization.yml: resources entry "https://evil.example.com/x.yaml" is remote (kustomize would fetch it); labgrader renders only files inside the project.`,
    ]);
  });

  it("refuses a link that leads out of the project", async () => {
    const root = project({ "config/default/kustomization.yaml": "resources:\n- secrets\n" });
    symlinkSync("/etc", join(root, "config/default/secrets"));
    expect(await checkKustomizations(root)).toEqual([
      "config/default/secrets is a link to something outside config/ (or to nothing); labgrader renders only the project's own config/ files.",
    ]);
  });
});
