import { createWriteStream } from "node:fs";
import type { LogLine } from "../engine/trace.ts";

/** What is kept of a manager's output, in all; a longer line is cut. */
export const MAX_LOG_BYTES = 16 * 1024 * 1024;
const MAX_LINE_CHARS = 64 * 1024;

export interface LogCaptureOptions {
  /** Milliseconds on the grade clock, for stamping lines. */
  clock: () => number;
  /** Where every kept line is also written. */
  logFile: string;
  /** How much is kept (default MAX_LOG_BYTES). */
  maxLogBytes?: number;
}

export interface LogCapture {
  logs: LogLine[];
  onLog(listener: (line: LogLine) => void): void;
  /** A chunk of one stream's output, cut anywhere. */
  feed(stream: LogLine["stream"], chunk: string): void;
  /** The stream ended: its last, unterminated line is kept. */
  end(stream: LogLine["stream"]): void;
  close(): void;
}

/**
 * A manager's output is the learner's to choose: what is kept (in memory, on disk) is bounded, and
 * the rest is read and dropped so the manager never blocks on a full pipe or a stalled log stream.
 */
export function createLogCapture(options: LogCaptureOptions): LogCapture {
  const file = createWriteStream(options.logFile);
  const logs: LogLine[] = [];
  const listeners: ((line: LogLine) => void)[] = [];
  const limit = options.maxLogBytes ?? MAX_LOG_BYTES;
  let budget = limit;
  const partial: Record<LogLine["stream"], string> = { stdout: "", stderr: "" };
  const emit = (stream: LogLine["stream"], text: string) => {
    if (budget <= 0) return;
    budget -= text.length + 1;
    const line: LogLine = {
      at: options.clock(),
      stream,
      text: budget > 0 ? text : `${text}\n[labgrader: the operator's log passed ${limit} bytes; the rest was not kept]`,
    };
    logs.push(line);
    file.write(`${line.text}\n`);
    for (const l of listeners) l(line);
  };
  return {
    logs,
    onLog: (listener) => listeners.push(listener),
    feed(stream, chunk) {
      if (budget <= 0) return;
      const parts = (partial[stream] + chunk).split("\n");
      partial[stream] = parts.pop() ?? "";
      if (partial[stream].length > MAX_LINE_CHARS) {
        parts.push(partial[stream].slice(0, MAX_LINE_CHARS));
        partial[stream] = "";
      }
      for (const text of parts) emit(stream, text.length > MAX_LINE_CHARS ? text.slice(0, MAX_LINE_CHARS) : text);
    },
    end(stream) {
      if (partial[stream]) emit(stream, partial[stream]);
      partial[stream] = "";
    },
    close: () => file.end(),
  };
}
