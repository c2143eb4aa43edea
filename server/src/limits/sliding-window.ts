/**
 * Sliding-window limits: at most `limit` hits within any window of `windowMs`. Each stored hit
 * expires `windowMs` after it was counted; the store answers how long each live hit still counts.
 */

export type WindowDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Whether one more hit fits, given how many ms each live hit of the window still counts (any
 * order). When it does not, the wait is until enough of them expire that one place is free.
 */
export function windowDecision(remainingMs: number[], limit: number): WindowDecision {
  if (remainingMs.length < limit) return { allowed: true };
  const newestFirst = [...remainingMs].sort((a, b) => b - a);
  return { allowed: false, retryAfterMs: Math.max(0, newestFirst[limit - 1]!) };
}

/** Whole seconds for a Retry-After header: never 0, so a client never retries at once. */
export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/** A duration as a person says it: "40 seconds", "12 minutes", "1 hour 5 minutes" (rounded up). */
export function durationText(ms: number): string {
  const seconds = retryAfterSeconds(ms);
  if (seconds < 60) return plural(seconds, "second");
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return plural(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? plural(hours, "hour") : `${plural(hours, "hour")} ${plural(minutes % 60, "minute")}`;
}
