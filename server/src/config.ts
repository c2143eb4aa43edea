import { z } from "zod";
import { ProviderNameSchema } from "../../grader/src/contracts.ts";
import { GoToolchainSchema } from "./uploads/go-version.ts";

/** The service's configuration, read once from the environment by server/src/main.ts. */
export const ServiceConfigSchema = z.object({
  /** TCP port of the HTTP server (PORT). */
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Address to listen on (HOST). */
  host: z.string().default("127.0.0.1"),
  /** Postgres, the gradebook (DATABASE_URL). */
  databaseUrl: z.string().min(1),
  /** Redis, the queue and live progress (REDIS_URL). */
  redisUrl: z.string().min(1),
  /** Prefix of the queue's Redis keys, the same as the workers' (LABGRADER_QUEUE_PREFIX). */
  queuePrefix: z.string().min(1).default("labgrader"),
  /** Largest accepted upload, in bytes (LABGRADER_MAX_UPLOAD_BYTES). */
  maxUploadBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .default(20 * 1024 * 1024),
  /** Where uploads are unpacked to be checked before they are accepted (LABGRADER_UPLOAD_DIR). */
  uploadDir: z.string().min(1),
  /** The Go that builds submissions, e.g. go1.26.8: uploads asking for a newer one are refused; unset, `go env GOVERSION` is asked once at start (LABGRADER_GO_VERSION). */
  goVersion: GoToolchainSchema.optional(),
  /** The workers' cluster provider: image submissions need one that runs operators in the cluster, kind (LABGRADER_PROVIDER). */
  provider: ProviderNameSchema.default("kwok"),
  /** Signs page session cookies and CSRF tokens; unset, one is generated once and kept in Postgres (LABGRADER_SESSION_SECRET). */
  sessionSecret: z.string().min(32, "LABGRADER_SESSION_SECRET needs at least 32 characters").optional(),
  /** Failed sign-ins one account name may have within the window; more are refused with 429 until the oldest expire (LABGRADER_SIGN_IN_FAILURES_PER_ACCOUNT). */
  signInFailuresPerAccount: z.coerce.number().int().min(1).default(10),
  /** Failed sign-ins one client address (IPv4, or an IPv6 /64) may have within the window, whatever the account names (LABGRADER_SIGN_IN_FAILURES_PER_ADDRESS). */
  signInFailuresPerAddress: z.coerce.number().int().min(1).default(30),
  /** The sliding window both sign-in limits count over, in ms (LABGRADER_SIGN_IN_WINDOW_MS). */
  signInWindowMs: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(15 * 60_000),
  /** Submissions one account may make within the window, API and pages together, accepted or not (LABGRADER_SUBMISSIONS_PER_WINDOW). */
  submissionsPerWindow: z.coerce.number().int().min(1).default(20),
  /** The sliding window submissions are counted over, in ms (LABGRADER_SUBMISSION_WINDOW_MS). */
  submissionWindowMs: z.coerce.number().int().min(1_000).default(3_600_000),
  /** Event streams (SSE) one account may hold open at once, the API's and the pages' together, across every server process (LABGRADER_STREAMS_PER_USER). */
  streamsPerUser: z.coerce.number().int().min(1).default(5),
});
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;
