import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/** The gradebook's tables as Kysely sees them; the migrations in ./migrations create them. */

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type Role = "learner" | "instructor" | "ci";
export type SubmissionKind = "archive" | "image" | "reference";
/** Every status an attempt can have, in the order it passes through them (superseded only from queued). */
export const ATTEMPT_STATUSES = ["queued", "running", "graded", "not_gradable", "superseded"] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];
export type AttemptPhase = "queued" | "building" | "provisioning" | "deploying" | "checking" | "reporting" | "done";

export interface UsersTable {
  id: Generated<number>;
  name: string;
  role: Role;
  created_at: CreatedAt;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  /** sha256 of the token; the token itself is shown once and never stored. */
  token_hash: string;
  label: string;
  created_at: CreatedAt;
  last_used_at: Timestamp | null;
}

/** Uploaded archives, evidence and logs, addressed by their sha256 so the same bytes are kept once. */
export interface BlobsTable {
  sha256: string;
  size: number;
  content: Buffer;
  created_at: CreatedAt;
  /** When these bytes were last stored (migration 0003): storing them again keeps them from the retention sweep. */
  stored_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface LabsTable {
  id: string;
  title: string;
  /** sha256 of the lab's files: an attempt records which version graded it. */
  version_hash: string;
  /** Tasks and checks as learners see them (no fixtures). */
  summary: Json<LabSummary>;
  updated_at: Timestamp;
}

export interface LabSummary {
  tasks: { id: string; title: string }[];
  checks: { id: string; task: string; title: string; points: number; required: boolean }[];
  maxScore: number;
}

/** The course as labs/course.yaml declares it (migration 0004); one row per course file. */
export interface CoursesTable {
  id: string;
  title: string;
  /** Modules in course order, each with its labs in order. */
  modules: Json<CourseModuleRecord[]>;
  updated_at: Timestamp;
}

export interface CourseModuleRecord {
  number: number;
  title: string;
  /** A lab's id, its share of the course score, and the labs to finish with full marks first. */
  labs: { lab: string; weight: number; requires: string[] }[];
}

export interface SubmissionsTable {
  id: Generated<string>;
  user_id: number;
  lab_id: string;
  kind: SubmissionKind;
  /** sha256 of the uploaded archive (a blob). */
  archive_sha256: string | null;
  image: string | null;
  created_at: CreatedAt;
  /** When the retention sweep deleted the archive of this superseded submission (migration 0003). */
  archive_deleted_at: Timestamp | null;
}

export interface AttemptsTable {
  id: Generated<string>;
  submission_id: string;
  user_id: number;
  lab_id: string;
  lab_version: string;
  status: AttemptStatus;
  phase: AttemptPhase;
  score: number | null;
  max_score: number | null;
  reason: string | null;
  findings: Json<string[]> | null;
  /** How many times a worker started it (a crashed worker's run is started again). */
  runs: Generated<number>;
  superseded_by: string | null;
  queued_at: CreatedAt;
  building_at: Timestamp | null;
  provisioning_at: Timestamp | null;
  deploying_at: Timestamp | null;
  checking_at: Timestamp | null;
  reporting_at: Timestamp | null;
  done_at: Timestamp | null;
  /** sha256 of the operator's log, kept as evidence. */
  log_sha256: string | null;
}

export interface CheckResultsTable {
  attempt_id: string;
  check_id: string;
  task: string;
  title: string;
  required: boolean;
  points: number;
  status: "passed" | "failed" | "error";
  message: string;
  hint: string;
  expected: string | null;
  actual: string | null;
  scenario: string | null;
  decided_at_ms: number;
  /** sha256 of the check's evidence (a blob). */
  evidence_sha256: string | null;
}

export interface AttemptEventsTable {
  /** Global order: an SSE client resumes after the last id it saw. */
  id: Generated<string>;
  attempt_id: string;
  run: number;
  type: string;
  data: Json<Record<string, unknown>>;
  created_at: CreatedAt;
}

/** One counted event of a sliding-window rate limit (a failed sign-in, a submission), until it expires. */
export interface RateLimitHitsTable {
  id: Generated<string>;
  /** Which limit and whose: `sign-in:account:ada`, `sign-in:address:192.0.2.7`, `submissions:42`. */
  bucket: string;
  /** The hit stops counting at this time (its time plus the limit's window). */
  expires_at: Timestamp;
}

/** An open event stream (SSE) of a user, renewed while it is open, so a server that dies frees its places. */
export interface StreamLeasesTable {
  id: Generated<string>;
  user_id: number;
  expires_at: Timestamp;
}

export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  blobs: BlobsTable;
  labs: LabsTable;
  courses: CoursesTable;
  submissions: SubmissionsTable;
  attempts: AttemptsTable;
  check_results: CheckResultsTable;
  attempt_events: AttemptEventsTable;
  rate_limit_hits: RateLimitHitsTable;
  stream_leases: StreamLeasesTable;
}

export type User = Selectable<UsersTable>;
export type Attempt = Selectable<AttemptsTable>;
export type NewAttempt = Insertable<AttemptsTable>;
export type AttemptUpdate = Updateable<AttemptsTable>;
export type CheckResultRow = Selectable<CheckResultsTable>;
export type AttemptEvent = Selectable<AttemptEventsTable>;
