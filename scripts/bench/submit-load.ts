// The load side of submit.ts (npm run bench:submit), run as its own process: POSTs submissions as
// fast as the service takes them, bounded in count and time, and prints one JSON line of latencies.
import { readFileSync } from "node:fs";

const [baseUrl, tokensFile, countArg, concurrencyArg, secondsArg, archiveFile] = process.argv.slice(2);
if (!baseUrl || !tokensFile)
  throw new Error("usage: submit-load.ts BASE_URL TOKENS_FILE COUNT CONCURRENCY MAX_SECONDS [ARCHIVE]");
const tokens = readFileSync(tokensFile, "utf8").trim().split("\n");
const count = Number(countArg ?? 1000);
const concurrency = Number(concurrencyArg ?? 16);
const deadline = Date.now() + Number(secondsArg ?? 60) * 1000;
const archive = archiveFile ? readFileSync(archiveFile) : undefined;

const latencies: number[] = [];
const statuses: Record<string, number> = {};
let next = 0;

async function one(i: number) {
  const token = tokens[i % tokens.length]!;
  let body: FormData | string;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (archive) {
    const form = new FormData();
    form.append("project", new Blob([archive]), "project.tar.gz");
    body = form;
  } else {
    headers["content-type"] = "application/json";
    body = JSON.stringify({ reference: true });
  }
  const started = performance.now();
  const res = await fetch(`${baseUrl}/api/v1/labs/composing-operators/submissions`, { method: "POST", headers, body });
  await res.arrayBuffer();
  latencies.push(performance.now() - started);
  statuses[res.status] = (statuses[res.status] ?? 0) + 1;
}

const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count && Date.now() < deadline) await one(next++);
  }),
);
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ requests: latencies.length, seconds, statuses, latencies })}\n`);
