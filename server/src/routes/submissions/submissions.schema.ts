import { z } from "zod";
import { ImageReferenceSchema } from "../../services/submissions.ts";

/** JSON body of a submission that is not an upload. */
export const JsonSubmissionSchema = z.union([
  z.strictObject({ reference: z.literal(true) }),
  z.strictObject({ image: ImageReferenceSchema }),
]);

export const AcceptedSchema = z.object({ submissionId: z.uuid(), attemptId: z.uuid(), superseded: z.array(z.uuid()) });
