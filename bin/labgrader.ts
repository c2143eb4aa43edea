import { runCli } from "../grader/src/cli/main.ts";

// The labgrader bin: the grading library's commands plus the service's commands on the gradebook.
// The two layers meet here, above both, because the library must never import the service (README,
// Architecture). The library's CLI takes the extra commands from its caller, rather than a second
// dispatcher wrapping it, so there stays one command table, one usage text and one error handler.
runCli(process.argv.slice(2), {
  users: async () => import("../server/src/cli/users.ts").then((m) => ({ run: m.usersCommand, help: m.usersHelp })),
});
