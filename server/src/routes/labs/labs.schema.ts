import { z } from "zod";

export const LabSchema = z.object({
  id: z.string(),
  title: z.string(),
  versionHash: z.string(),
  maxScore: z.number(),
  tasks: z.array(z.object({ id: z.string(), title: z.string() })),
  checks: z.array(
    z.object({ id: z.string(), task: z.string(), title: z.string(), points: z.number(), required: z.boolean() }),
  ),
});
export type LabView = z.infer<typeof LabSchema>;
