import { describe, expect, it } from "vitest";
import type { ProbeRequest } from "../engine/check.ts";
import type { KubeObject } from "../engine/trace.ts";
import { KubeApiError, type KubeClient } from "./client.ts";
import { runProbe } from "./probes.ts";

const subject = { username: "system:serviceaccount:ops:manager", groups: [] };
// A short window for the probes that must run out of it; a long one for those that settle, so a
// busy host's slow timers cannot end their window before the answer that settles them.
const timing = { settleMs: 200, firstPauseMs: 5 };
const patient = { settleMs: 60_000, firstPauseMs: 5 };
const clock = () => 0;
const access: ProbeRequest = { kind: "access", verb: "list", group: "database.example.com", resource: "backups" };
const backup: KubeObject = {
  apiVersion: "database.example.com/v1",
  kind: "Backup",
  metadata: { name: "b", namespace: "ns" },
};
const admission: ProbeRequest = { kind: "admission", manifest: backup };

/** A client whose answers are played back in order, the last one repeated; only the two calls a probe makes. */
function scripted(answers: (() => unknown)[]): KubeClient & { calls: number } {
  let calls = 0;
  const next = async () => answers[Math.min(calls++, answers.length - 1)]!();
  const client = {
    get calls() {
      return calls;
    },
    request: next,
    apply: next,
  };
  return client as unknown as KubeClient & { calls: number };
}

const review = (allowed: boolean) => () => ({ status: { allowed, reason: allowed ? "bound" : "" } });
const fail = (status: number) => () => {
  throw new KubeApiError(status, "x", `status ${status}`);
};

describe("probes settle before they answer", () => {
  it("asks again when a fresh binding is not seen yet, and returns the access once it is", async () => {
    const client = scripted([review(false), review(false), review(true)]);
    await expect(runProbe(client, access, subject, clock, patient)).resolves.toMatchObject({
      kind: "access",
      allowed: true,
    });
    expect(client.calls).toBe(3);
  });

  it("returns a denial that lasts", async () => {
    const client = scripted([review(false)]);
    await expect(runProbe(client, access, subject, clock, timing)).resolves.toMatchObject({ allowed: false });
    expect(client.calls).toBeGreaterThan(2);
  });

  it("rides out an API server's moment of trouble", async () => {
    const client = scripted([fail(503), fail(429), review(true)]);
    await expect(runProbe(client, access, subject, clock, patient)).resolves.toMatchObject({ allowed: true });
  });

  it("throws when the trouble lasts: the platform could not tell", async () => {
    await expect(runProbe(scripted([fail(500)]), access, subject, clock, timing)).rejects.toThrow(
      /no answer within 0.2 s/,
    );
  });

  it("takes an object refused as invalid at once", async () => {
    const client = scripted([fail(422)]);
    await expect(runProbe(client, admission, subject, clock, timing)).resolves.toMatchObject({
      kind: "admission",
      accepted: false,
      message: "status 422",
    });
    expect(client.calls).toBe(1);
  });

  it("takes a field the schema does not declare (server-side apply's 500) as a refusal, at once", async () => {
    const undeclared = () => {
      throw new KubeApiError(
        500,
        "InternalError",
        "failed to create typed patch object (ns/b; database.example.com/v1, Kind=Backup): .spec.extra: field not declared in schema",
      );
    };
    const client = scripted([undeclared]);
    await expect(runProbe(client, admission, subject, clock, timing)).resolves.toMatchObject({
      accepted: false,
      message: /\.spec\.extra: field not declared in schema/,
    });
    expect(client.calls).toBe(1);
  });

  it("still rides out any other 500", async () => {
    const client = scripted([fail(500), () => backup]);
    await expect(runProbe(client, admission, subject, clock, patient)).resolves.toMatchObject({ accepted: true });
  });

  it("takes a kind that stays unserved for the project's doing, not the platform's", async () => {
    const client = scripted([fail(404)]);
    await expect(runProbe(client, admission, subject, clock, timing)).resolves.toMatchObject({
      accepted: false,
      message: /does not serve Backup in database.example.com\/v1/,
    });
  });

  it("accepts once a just-established CRD is served", async () => {
    const client = scripted([fail(404), () => backup]);
    await expect(runProbe(client, admission, subject, clock, timing)).resolves.toMatchObject({ accepted: true });
  });
});
