import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import express from "express";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDb, migrate } from "../server/src/db/connect.ts";
import { redirectWithNotice, sessionMiddleware } from "../server/src/pages/session.ts";
import { createTestDatabase, type TestDatabase } from "./support/services.ts";

/** Postgres as it is, except that every write of a session takes a while, as on a busy database. */
function slowWrites(pool: pg.Pool, ms: number): pg.Pool {
  return new Proxy(pool, {
    get(target, key) {
      if (key !== "query") {
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return async (text: string, params?: unknown[]) => {
        if (/^\s*(insert|update)/i.test(text)) await sleep(ms);
        return target.query(text, params);
      };
    },
  });
}

let db: TestDatabase;
let pool: pg.Pool;
let server: ReturnType<ReturnType<typeof express>["listen"]>;
let baseUrl = "";

beforeAll(async () => {
  db = await createTestDatabase();
  const kdb = createDb(db.url, { log: () => undefined, maxConnections: 1 });
  await migrate(kdb);
  await kdb.destroy();
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
  const app = express();
  app.use(
    sessionMiddleware({ secret: "a test secret of enough length", pool: slowWrites(pool, 300), log: () => undefined }),
  );
  app.post("/act", async (req, res) => redirectWithNotice(req, res, "/next", "The thing was done."));
  app.get("/next", (req, res) => {
    res.type("text").send(req.session.notice ?? "(no notice)");
  });
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await pool?.end();
  await db?.drop();
});

describe("a one-time notice after a redirect", () => {
  test("is on the next page even when the browser follows the redirect the moment its headers arrive", async () => {
    const acted = await fetch(`${baseUrl}/act`, { method: "POST", redirect: "manual" });
    expect(acted.status).toBe(303);
    const cookie = acted.headers.get("set-cookie")?.split(";")[0];
    expect(cookie).toMatch(/^labgrader\.sid=/);
    // The body is not read first: a browser asks for the next page as soon as it has the headers.
    const next = await fetch(`${baseUrl}${acted.headers.get("location")}`, { headers: { cookie: cookie! } });
    expect(await next.text()).toBe("The thing was done.");
    await acted.body?.cancel();
  });
});
