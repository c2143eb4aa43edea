import { z } from "zod";

/** JSON body of a submission that is not an upload. */
export const JsonSubmissionSchema = z.union([
  z.strictObject({ reference: z.literal(true) }),
  z.strictObject({ image: z.string().regex(/^[a-z0-9][a-z0-9._\-/:@]{0,254}$/i, "an image reference like registry.example.com/me/postgres-operator:v1") }),
]);

export const AcceptedSchema = z.object({ submissionId: z.uuid(), attemptId: z.uuid(), superseded: z.array(z.uuid()) });

export const SubmissionIdParamsSchema = z.object({ id: z.uuid() });

export const SubmissionListQuerySchema = z.object({ user: z.coerce.number().int().optional() });
