import type { AttemptStatus } from "../db/schema.ts";

/** How statuses read on the pages; the colour comes from the status itself (see app.css). */
export const STATUS_LABELS: Record<AttemptStatus, string> = {
  queued: "Queued",
  running: "Grading",
  graded: "Graded",
  not_gradable: "Not gradable",
  superseded: "Replaced by a newer upload",
};

/** How a check's verdict reads, on the attempt page and (handed over by it) in its live updates in app.js. */
export const CHECK_LABELS = {
  pending: "Not decided yet",
  passed: "Passed",
  failed: "Failed",
  error: "Could not be decided",
} as const;

export const PHASE_LABELS: Record<string, string> = {
  queued: "Queued",
  building: "Building",
  provisioning: "Starting a cluster",
  deploying: "Deploying your operator",
  checking: "Checking",
  reporting: "Reporting",
  done: "Done",
};

/** "2026-11-23 19:55 UTC": one unambiguous form for everyone, whatever their locale. */
export function when(date: Date | null | undefined): { iso: string; text: string; time: string } | undefined {
  if (!date) return undefined;
  const iso = date.toISOString();
  return { iso, text: `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`, time: iso.slice(11, 19) };
}

/** "12.3 s" from milliseconds since the grade started. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function scoreText(score: number | null, maxScore: number | null): string {
  return score === null ? "—" : `${score}/${maxScore ?? "?"}`;
}

/** Text with `code spans` (as lab files write them) split for the template, which escapes each part. */
export function withCode(text: string): { text: string; code: boolean }[] {
  return text
    .split(/(`[^`]+`)/)
    .filter(Boolean)
    .map((part) =>
      part.startsWith("`") && part.endsWith("`") && part.length > 2
        ? { text: part.slice(1, -1), code: true }
        : { text: part, code: false },
    );
}
