/**
 * Progress of long work (Go builds of the control plane, the kind node image): a cold build takes
 * many minutes and prints nothing of its own, so whoever waits is told how long it has run and,
 * from the last build of the same thing, about how long is left. A terminal gets one line
 * rewritten in place; a log gets a plain line every 30 s.
 */

/** "45 s", "3 min 05 s", "1 h 02 min": whole seconds, the largest two units. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** What the last build of the same thing says about this one; nothing without a last build. */
export function estimateText(elapsedMs: number, lastMs: number | undefined): string | undefined {
  if (lastMs === undefined) return undefined;
  if (elapsedMs < lastMs)
    return `about ${formatDuration(lastMs - elapsedMs)} left (the last build took ${formatDuration(lastMs)})`;
  return `longer than the last build (${formatDuration(lastMs)})`;
}

/** "building etcd v3.6.16: 2 min 10 s, about 1 min 02 s left (the last build took 3 min 12 s)". */
export function progressLine(what: string, elapsedMs: number, lastMs?: number): string {
  const estimate = estimateText(elapsedMs, lastMs);
  return `${what}: ${formatDuration(elapsedMs)}${estimate ? `, ${estimate}` : ""}`;
}

export interface ProgressOutput {
  /** Lines that stay (a log, or a terminal's scrollback). */
  log: (line: string) => void;
  /** Draws one line in place of the last one drawn ("" clears it): a terminal; unset, progress comes as plain log lines. */
  live?: (line: string) => void;
}

export interface ProgressTask {
  /** Stops this task's progress lines; returns how long it ran, in ms (the same on every later call). */
  end(): number;
}

export interface Progress {
  /** Starts reporting one piece of work; `lastMs`, the last build's duration, gives an estimate. */
  start(what: string, lastMs?: number): ProgressTask;
}

export interface ProgressTiming {
  /** A plain line per running task at least this often (ms). */
  plainEveryMs?: number;
  /** How often the live line is drawn again (ms). */
  liveEveryMs?: number;
  now?: () => number;
}

interface Running {
  what: string;
  started: number;
  lastMs: number | undefined;
}

/**
 * Progress for tasks that may overlap (the kind image builds Go binaries while debootstrap runs):
 * the live line shows every running task; plain lines come per task.
 */
export function createProgress(out: ProgressOutput, timing: ProgressTiming = {}): Progress {
  const { plainEveryMs = 30_000, liveEveryMs = 1_000, now = Date.now } = timing;
  const running = new Set<Running>();
  let liveTimer: NodeJS.Timeout | undefined;
  const draw = (live: (line: string) => void) =>
    live([...running].map((t) => progressLine(t.what, now() - t.started, t.lastMs)).join(" · "));

  return {
    start(what, lastMs) {
      const task: Running = { what, started: now(), lastMs };
      running.add(task);
      const { live } = out;
      let plainTimer: NodeJS.Timeout | undefined;
      if (live) {
        liveTimer ??= setInterval(() => draw(live), liveEveryMs).unref();
        draw(live);
      } else {
        plainTimer = setInterval(() => out.log(progressLine(what, now() - task.started, lastMs)), plainEveryMs).unref();
      }
      let ended: number | undefined;
      return {
        end() {
          if (ended !== undefined) return ended;
          ended = now() - task.started;
          running.delete(task);
          clearInterval(plainTimer);
          if (live && running.size > 0) draw(live);
          if (live && running.size === 0) {
            clearInterval(liveTimer);
            liveTimer = undefined;
            live("");
          }
          return ended;
        },
      };
    },
  };
}
