import type { ServiceConfig } from "../config.ts";
import type { Db } from "../db/connect.ts";
import { createSignInGate } from "./sign-in.ts";
import { createStreamGate } from "./streams.ts";
import { createSubmissionGate } from "./submissions.ts";

export type FairUseConfig = Pick<
  ServiceConfig,
  | "signInFailuresPerAccount"
  | "signInFailuresPerAddress"
  | "signInWindowMs"
  | "submissionsPerWindow"
  | "submissionWindowMs"
  | "streamsPerUser"
>;

/**
 * The limits that keep one account from wearing the service down: failed sign-ins, submissions
 * and open event streams. Their counts live in Postgres, shared by every server process.
 */
export function createFairUse(db: Db, config: FairUseConfig) {
  return {
    signIn: createSignInGate(db, {
      failuresPerAccount: config.signInFailuresPerAccount,
      failuresPerAddress: config.signInFailuresPerAddress,
      windowMs: config.signInWindowMs,
    }),
    submissions: createSubmissionGate(db, {
      perWindow: config.submissionsPerWindow,
      windowMs: config.submissionWindowMs,
    }),
    streams: createStreamGate(db, config.streamsPerUser),
  };
}
export type FairUse = ReturnType<typeof createFairUse>;
