import { z } from "zod";

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
  maxUploadBytes: z.coerce.number().int().min(1024).default(20 * 1024 * 1024),
  /** Where uploads are unpacked to be checked before they are accepted (LABGRADER_UPLOAD_DIR). */
  uploadDir: z.string().min(1),
  /** The workers' cluster provider: image submissions need kind (LABGRADER_PROVIDER). */
  provider: z.enum(["kwok", "kind", "kubeconfig"]).default("kwok"),
  /** Signs page session cookies and CSRF tokens; unset, one is generated once and kept in Postgres (LABGRADER_SESSION_SECRET). */
  sessionSecret: z.string().min(32, "LABGRADER_SESSION_SECRET needs at least 32 characters").optional(),
});
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;
