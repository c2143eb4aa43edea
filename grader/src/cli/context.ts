import type { GraderConfig } from "../config.ts";

/** What every CLI command gets from main.ts. */
export interface CliContext {
  config: GraderConfig;
  env: Record<string, string | undefined>;
  /** Progress and diagnostics (stderr). */
  log: (line: string) => void;
  /** Results (stdout). */
  out: (text: string) => void;
  isTty: boolean;
  /** Draws a status line in place of the last one on stderr ("" clears it); unset when stderr is no terminal. */
  live?: (line: string) => void;
}
