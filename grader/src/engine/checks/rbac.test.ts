import { describe, expect, it } from "vitest";
import type { ProbeResult } from "../trace.ts";
import { createTraceBuilder } from "../trace-builder.ts";
import { ParamsSchema, evaluate, probe } from "./rbac.ts";

const watchBackups = ParamsSchema.parse({
  verb: "watch",
  group: "database.example.com",
  resource: "backups",
  namespace: "ns",
});
const noSecretsDelete = ParamsSchema.parse({ verb: "delete", group: "", resource: "nodes", allowed: false });
const answer = (allowed: boolean, reason = ""): ProbeResult => ({ kind: "access", at: 3, allowed, reason });

interface Case {
  name: string;
  params: typeof watchBackups;
  result?: ProbeResult;
  final?: boolean;
  status: "pending" | "passed" | "failed";
  actual?: RegExp;
}

const cases: Case[] = [
  {
    name: "passes when allowed",
    params: watchBackups,
    result: answer(true, 'RBAC: allowed by ClusterRoleBinding "manager-rolebinding"'),
    status: "passed",
  },
  {
    name: "fails when denied, in words",
    params: watchBackups,
    result: answer(false),
    status: "failed",
    actual: /may not watch backups\.database\.example\.com in namespace ns/,
  },
  { name: "passes a required denial", params: noSecretsDelete, result: answer(false), status: "passed" },
  {
    name: "fails an unexpected grant",
    params: noSecretsDelete,
    result: answer(true),
    status: "failed",
    actual: /may delete nodes cluster-wide/,
  },
  { name: "stays pending without an answer", params: watchBackups, status: "pending" },
  { name: "fails at the deadline without an answer", params: watchBackups, final: true, status: "failed" },
];

describe("rbac check", () => {
  it.each(cases)("$name", ({ params, result, final, status, actual }) => {
    const verdict = evaluate(
      params,
      createTraceBuilder().context({ final: final ?? false, ...(result ? { probe: result } : {}) }),
    );
    expect(verdict.status).toBe(status);
    if (verdict.status === "failed" && actual) expect(verdict.actual).toMatch(actual);
  });

  it("asks for a SubjectAccessReview", () => {
    expect(probe(watchBackups)).toEqual({
      kind: "access",
      verb: "watch",
      group: "database.example.com",
      resource: "backups",
      namespace: "ns",
    });
  });
});
