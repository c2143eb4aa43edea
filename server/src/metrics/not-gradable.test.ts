import { describe, expect, test } from "vitest";
import { notGradableClass } from "./not-gradable.ts";

describe("notGradableClass", () => {
  test.each([
    {
      reason:
        "the operator's build did not finish within 300 s (its time limit); a busy host can cause this, so it is graded again",
      expected: "build_timeout",
    },
    { reason: "could not provision a kwok cluster: kwokctl exited with 1", expected: "cluster" },
    {
      reason: "while grading attempt 6f1c…: could not provision a kind cluster: docker: no space left",
      expected: "cluster",
    },
    {
      reason:
        "could not provision a kwok cluster: while creating kwok cluster lg-ebaf9f2e: ENOSPC: no space left on device, write",
      expected: "disk_full",
    },
    {
      reason:
        "this host has 412 MiB of disk left where it grades (/tmp/labgrader-grade-x/1), less than the 1 GiB a grade needs; it is graded again",
      expected: "disk_full",
    },
    {
      reason: "the operator's build ran out of disk on this host, not for anything in the project",
      expected: "disk_full",
    },
    { reason: "could not deploy the operator into the cluster: kind load docker-image failed", expected: "deploy" },
    {
      reason: "the kind provider runs operators in the cluster, but this grader has no kubectl or image loader for it",
      expected: "deploy",
    },
    { reason: "could not sandbox the operator: while setting up sandbox lg-62001", expected: "sandbox" },
    { reason: "this host cannot sandbox operators: no cgroup v1 memory controller", expected: "sandbox" },
    {
      reason: "the archive of submission 0d6e3c2a-9f0e-4a55-8c43-1b1f2e3d4c5b is missing from the gradebook",
      expected: "archive",
    },
    {
      reason:
        "the project archive of submission 0d6e3c2a-9f0e-4a55-8c43-1b1f2e3d4c5b was deleted on 2026-12-01T10:00:00.000Z, some days after …",
      expected: "archive",
    },
    { reason: "lab composing-operators is not loaded by this worker", expected: "lab_not_loaded" },
    { reason: "invalid grading job grade-x: attemptId: Invalid UUID", expected: "invalid_job" },
    { reason: "submission 0d6e3c2a-9f0e-4a55-8c43-1b1f2e3d4c5b is not in the gradebook", expected: "invalid_job" },
    { reason: "job stalled more than allowable limit", expected: "worker_lost" },
    { reason: "grading failed: TypeError: cannot read properties of undefined", expected: "internal" },
    { reason: null, expected: "check_error" },
    { reason: "something nobody foresaw", expected: "other" },
  ])("$expected: $reason", ({ reason, expected }) => {
    expect(notGradableClass(reason)).toBe(expected);
  });
});
