import { z } from "zod";

export const LabIdParamsSchema = z.object({ labId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "a lab id is kebab-case") });

export const LabSchema = z.object({
  id: z.string(),
  title: z.string(),
  versionHash: z.string(),
  maxScore: z.number(),
  tasks: z.array(z.object({ id: z.string(), title: z.string() })),
  checks: z.array(z.object({ id: z.string(), task: z.string(), title: z.string(), points: z.number(), required: z.boolean() })),
});
export type LabView = z.infer<typeof LabSchema>;
