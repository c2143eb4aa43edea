import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createKubeClient } from "./client.ts";

const folders: string[] = [];

/** A kubeconfig for a plain HTTP server on loopback (client-node accepts http only with skip-TLS-verify). */
function kubeconfigFor(server: Server): string {
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), "labgrader-kube-client-"));
  folders.push(dir);
  const file = join(dir, "kubeconfig.yaml");
  writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:" + port + "', insecure-skip-tls-verify: true}}]",
      "users: [{name: u, user: {token: t0ken}}]",
      "contexts: [{name: x, context: {cluster: c, user: u}}]",
      "current-context: x",
    ].join("\n"),
  );
  return file;
}

describe("createKubeClient", () => {
  let server: Server | undefined;
  afterEach(async () => {
    for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  });

  // Each new connection to an API server is a TLS handshake it signs; a grade makes a request
  // at a time, thousands in all, so they must share connections.
  it("sends requests one after another over the connections it already has, with the kubeconfig's credentials", async () => {
    let connections = 0;
    const authorizations = new Set<string | undefined>();
    server = createServer((req, res) => {
      authorizations.add(req.headers.authorization);
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ kind: "Status", path: req.url }));
    });
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const client = createKubeClient(kubeconfigFor(server));

    for (let i = 0; i < 20; i++) {
      expect(await client.request("GET", `/api/v1/namespaces/n${i}`)).toEqual({
        kind: "Status",
        path: `/api/v1/namespaces/n${i}`,
      });
    }

    // undici may open a second connection while the first is handed back to its pool; never one a request.
    expect(connections).toBeLessThanOrEqual(2);
    expect([...authorizations]).toEqual(["Bearer t0ken"]);
  });
});
