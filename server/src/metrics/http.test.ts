import type { AddressInfo } from "node:net";
import express from "express";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HttpError } from "../errors.ts";
import { httpMetrics, routeLabel, statusClass } from "./http.ts";

describe("statusClass", () => {
  test.each([
    [200, "2xx"],
    [204, "2xx"],
    [302, "3xx"],
    [404, "4xx"],
    [429, "4xx"],
    [503, "5xx"],
  ])("%d is %s", (status, label) => {
    expect(statusClass(status)).toBe(label);
  });
});

describe("routeLabel", () => {
  test.each([
    {
      name: "a matched pattern is the label",
      pattern: "/api/v1/attempts/:id",
      baseUrl: "/api/v1",
      expected: "/api/v1/attempts/:id",
    },
    { name: "no route: the mount that answered", pattern: undefined, baseUrl: "/static", expected: "/static/*" },
    { name: "no route, no mount", pattern: undefined, baseUrl: "", expected: "unmatched" },
  ])("$name", ({ pattern, baseUrl, expected }) => {
    expect(routeLabel(pattern, baseUrl)).toBe(expected);
  });
});

describe("httpMetrics", () => {
  const registry = new Registry();
  let base = "";
  let close = () => undefined as unknown;
  beforeAll(async () => {
    const app = express();
    app.use(httpMetrics(registry));
    const api = express.Router();
    api.get("/things/:id", (req, res) => {
      if (req.params.id === "missing") throw new HttpError(404, "no such thing");
      res.json({ id: req.params.id });
    });
    app.use("/api/v1", api);
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(error instanceof HttpError ? error.status : 500).json({});
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  test("labels requests by route pattern with its mount path, also when the handler failed, never by URL", async () => {
    for (const id of ["1", "2", "missing"]) await (await fetch(`${base}/api/v1/things/${id}`)).text();
    await (await fetch(`${base}/nowhere/at/all`)).text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = (await registry.metrics()).split("\n");
    expect(lines).toContain(
      'labgrader_http_request_duration_seconds_count{method="GET",route="/api/v1/things/:id",status_class="2xx"} 2',
    );
    expect(lines).toContain(
      'labgrader_http_request_duration_seconds_count{method="GET",route="/api/v1/things/:id",status_class="4xx"} 1',
    );
    expect(lines).toContain(
      'labgrader_http_request_duration_seconds_count{method="GET",route="unmatched",status_class="4xx"} 1',
    );
    expect(lines.join("\n")).not.toMatch(/things\/1|things\/missing/);
  });
});
