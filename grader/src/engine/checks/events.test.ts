import { describe } from "vitest";
import type { EventRecord } from "../trace.ts";
import { verdictCases, type VerdictCase } from "./verdict-cases.ts";
import { ParamsSchema, evaluate } from "./events.ts";

const params = ParamsSchema.parse({
  object: { kind: "Backup", name: "nightly" },
  reason: "BackupCompleted",
  type: "Normal",
  messagePattern: "completed",
  ignoreCase: true,
});

const event = (overrides: Partial<Omit<EventRecord, "at">> = {}): Omit<EventRecord, "at"> => ({
  api: "core/v1",
  type: "Normal",
  reason: "BackupCompleted",
  message: "Backup Completed successfully",
  regarding: { kind: "Backup", name: "nightly", namespace: "ns" },
  ...overrides,
});

type Case = VerdictCase;

const cases: Case[] = [
  { name: "passes on a core/v1 Event", build: (t) => t.at(5).event(event()), status: "passed" },
  {
    name: "passes on an events.k8s.io/v1 Event",
    build: (t) => t.at(5).event(event({ api: "events.k8s.io/v1" })),
    status: "passed",
  },
  {
    name: "ignores Events about another object",
    build: (t) => t.at(5).event(event({ regarding: { kind: "Backup", name: "other", namespace: "ns" } })),
    status: "pending",
  },
  {
    name: "ignores Events in another namespace",
    build: (t) => t.at(5).event(event({ regarding: { kind: "Backup", name: "nightly", namespace: "elsewhere" } })),
    status: "pending",
  },
  {
    name: "fails listing the Events that were recorded",
    build: (t) => t.at(5).event(event({ type: "Warning", reason: "BackupFailed", message: "boom" })),
    ctx: { final: true, now: 100 },
    status: "failed",
    actual: /Warning BackupFailed: boom/,
  },
  {
    name: "fails when there were none",
    build: () => undefined,
    ctx: { final: true, now: 100 },
    status: "failed",
    actual: /no Events about Backup nightly/,
  },
];

describe("events check", () => {
  verdictCases(cases, (row, ctx) => evaluate(params, ctx));
});
