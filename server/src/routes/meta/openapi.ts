import { z } from "zod";
import { AttemptSchema } from "../attempts/attempts.schema.ts";
import { CourseProgressSchema, CourseSchema } from "../courses/courses.schema.ts";
import { GradebookRowSchema } from "../gradebook/gradebook.schema.ts";
import { LabSchema } from "../labs/labs.schema.ts";
import { AcceptedSchema, JsonSubmissionSchema } from "../submissions/submissions.schema.ts";

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: "output", unrepresentable: "any" });
const json = (s: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema: schema(s) } },
});
const errors = {
  "401": { description: "no or unknown bearer token" },
  "404": { description: "not found, or not yours" },
};
const tooMany = (what: string) => ({
  "429": { description: `${what}; Retry-After says in how many seconds to ask again` },
});
const id = (name: string) => ({ name, in: "path", required: true, schema: { type: "string" } });

/** The API's OpenAPI document, built from the same zod schemas the handlers validate with. */
export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "labgrader",
      version: "1",
      description:
        "Submit lab work, follow its grading, read the gradebook. Every route takes `Authorization: Bearer <token>`.",
    },
    servers: [{ url: "/api/v1" }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths: {
      "/labs": {
        get: {
          summary: "Labs",
          responses: { "200": json(z.object({ labs: z.array(LabSchema) }), "every lab"), ...errors },
        },
      },
      "/labs/{labId}": {
        get: {
          summary: "One lab",
          parameters: [id("labId")],
          responses: { "200": json(LabSchema, "the lab"), ...errors },
        },
      },
      "/labs/{labId}/submissions": {
        post: {
          summary:
            "Submit: a project archive (multipart field `project`, .tar.gz or .zip), an image (kind only), or the reference (instructor/ci)",
          parameters: [id("labId")],
          requestBody: {
            content: {
              "multipart/form-data": {
                schema: {
                  type: "object",
                  properties: { project: { type: "string", format: "binary" } },
                  required: ["project"],
                },
              },
              "application/json": { schema: schema(JsonSubmissionSchema) },
            },
          },
          responses: {
            "202": json(AcceptedSchema, "accepted and queued"),
            "400": { description: "malformed or unsafe archive" },
            "413": { description: "too large" },
            "422": { description: "not a kubebuilder project" },
            ...tooMany("this account's submissions reached the limit of its window"),
            ...errors,
          },
        },
      },
      "/labs/{labId}/attempts": {
        get: {
          summary: "My attempts (instructors: everyone's, or ?user=)",
          parameters: [id("labId")],
          responses: { "200": { description: "attempts, newest first" }, ...errors },
        },
      },
      "/labs/{labId}/regrade": {
        post: {
          summary: "Regrade every submission of the lab (instructors)",
          parameters: [id("labId")],
          responses: {
            "202": { description: "new attempt ids" },
            "403": { description: "not an instructor" },
            ...errors,
          },
        },
      },
      "/submissions/{id}": {
        get: {
          summary: "A submission and its attempts",
          parameters: [id("id")],
          responses: { "200": { description: "the submission" }, ...errors },
        },
      },
      "/attempts/{id}": {
        get: {
          summary: "An attempt: phase, status, score and every check",
          parameters: [id("id")],
          responses: { "200": json(AttemptSchema, "the attempt"), ...errors },
        },
      },
      "/attempts/{id}/events": {
        get: {
          summary: "Server-Sent Events: phases and verdicts as they happen; resumes after Last-Event-ID",
          parameters: [id("id")],
          responses: {
            "200": { description: "text/event-stream" },
            ...tooMany("this account already holds its most open event streams"),
            ...errors,
          },
        },
      },
      "/attempts/{id}/checks/{checkId}/evidence": {
        get: {
          summary: "A check's evidence: objects, timeline, events, log lines",
          parameters: [id("id"), id("checkId")],
          responses: { "200": { description: "evidence JSON" }, ...errors },
        },
      },
      "/attempts/{id}/log": {
        get: {
          summary: "The operator's log (its end, size-capped)",
          parameters: [id("id")],
          responses: { "200": { description: "text" }, ...errors },
        },
      },
      "/attempts/{id}/regrade": {
        post: {
          summary: "Grade the attempt's submission again (instructors)",
          parameters: [id("id")],
          responses: {
            "202": { description: "the new attempt id" },
            "403": { description: "not an instructor" },
            ...errors,
          },
        },
      },
      "/gradebook": {
        get: {
          summary: "The gradebook of a lab (instructors): JSON or CSV",
          parameters: [
            { name: "lab", in: "query", required: true, schema: { type: "string" } },
            { name: "format", in: "query", schema: { type: "string", enum: ["json", "csv"] } },
            { name: "pick", in: "query", schema: { type: "string", enum: ["best", "latest"] } },
          ],
          responses: {
            "200": json(z.object({ lab: z.string(), rows: z.array(GradebookRowSchema) }), "one row per learner"),
            "403": { description: "not an instructor" },
            ...errors,
          },
        },
      },
      "/courses": {
        get: {
          summary: "Courses: their modules and labs in order, with each lab's weight and prerequisites",
          responses: { "200": json(z.object({ courses: z.array(CourseSchema) }), "every course"), ...errors },
        },
      },
      "/courses/{courseId}": {
        get: {
          summary: "A course with the caller's progress (instructors: any learner's, with ?learner=<user id>)",
          parameters: [id("courseId"), { name: "learner", in: "query", schema: { type: "string" } }],
          responses: {
            "200": json(CourseProgressSchema, "best score and status per lab, prerequisites met, and the next lab"),
            "403": { description: "a learner asking for someone else's progress" },
            ...errors,
          },
        },
      },
      "/me": {
        get: {
          summary: "Who the token belongs to",
          responses: { "200": { description: "id, name, role" }, ...errors },
        },
      },
    },
  };
}
