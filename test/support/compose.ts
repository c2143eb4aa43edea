import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { repoRoot } from "./env.ts";
import { api } from "./service-stack.ts";

const run = promisify(execFile);

export interface Attempt {
  status: string;
  score: number | null;
  maxScore: number | null;
  reason?: string | null;
  checks: { id: string; status: string; message: string }[];
}

/** A project of the repository's docker-compose.yml under its own name, as a user drives it. */
export interface ComposeProject {
  name: string;
  baseUrl: string;
  env: NodeJS.ProcessEnv;
  compose(args: string[], timeoutMs?: number): Promise<string>;
  /** An account made inside the server container with `labgrader users add`; its token. */
  addUser(name: string, role: "learner" | "instructor"): Promise<string>;
  /** Submits to a lab through the API and waits for the attempt to end (graded, not gradable, superseded). */
  gradeOf(token: string, lab: string, body: FormData | object, timeoutMs: number): Promise<Attempt>;
  /** What Docker still holds of the project: containers, volumes, networks (by compose's project label). */
  leftovers(): Promise<string[]>;
}

/** `port` is where the server is published; .env (written by compose-images.sh) names the local images. */
export function composeProject(name: string, port: number, extraEnv: Record<string, string> = {}): ComposeProject {
  const env = { ...process.env, LABGRADER_PORT: String(port), ...extraEnv };
  const baseUrl = `http://127.0.0.1:${port}`;

  async function compose(args: string[], timeoutMs = 300_000): Promise<string> {
    try {
      const { stdout } = await run("docker", ["compose", "-p", name, ...args], {
        cwd: repoRoot,
        env,
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (e) {
      const failure = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `docker compose ${args.join(" ")}: ${failure.message}\n${failure.stdout ?? ""}${failure.stderr ?? ""}`,
        { cause: e },
      );
    }
  }

  async function call<T>(token: string, method: string, path: string, body?: FormData | object): Promise<T> {
    const res = await api<T>({ baseUrl }, token, method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  return {
    name,
    baseUrl,
    env,
    compose,
    async addUser(user, role) {
      const out = await compose([
        "exec",
        "-T",
        "server",
        "bin/labgrader",
        "users",
        "add",
        user,
        "--role",
        role,
        "--json",
      ]);
      return (JSON.parse(out) as { token: string }).token;
    },
    async gradeOf(token, lab, body, timeoutMs) {
      const { attemptId } = await call<{ attemptId: string }>(token, "POST", `/api/v1/labs/${lab}/submissions`, body);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const attempt = await call<Attempt>(token, "GET", `/api/v1/attempts/${attemptId}`);
        if (["graded", "not_gradable", "superseded"].includes(attempt.status)) return attempt;
        if (Date.now() > deadline) {
          const logs = await compose(["logs", "--no-color", "--tail", "60", "worker"]).catch((e: Error) => e.message);
          throw new Error(
            `attempt ${attemptId} still ${attempt.status} after ${timeoutMs} ms; the worker's last lines:\n${logs}`,
          );
        }
        await new Promise((r) => setTimeout(r, 1_000));
      }
    },
    async leftovers() {
      const label = `label=com.docker.compose.project=${name}`;
      const list = async (args: string[], field: string) =>
        (await run("docker", [...args, "--filter", label, "--format", `{{.${field}}}`], { env })).stdout
          .split("\n")
          .filter(Boolean);
      return [
        ...(await list(["ps", "-a"], "Names")).map((n) => `container ${n}`),
        ...(await list(["volume", "ls"], "Name")).map((n) => `volume ${n}`),
        ...(await list(["network", "ls"], "Name")).map((n) => `network ${n}`),
      ];
    },
  };
}
