import { describe, expect, test } from "vitest";
import { isDatabaseUnavailable } from "./connect.ts";

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("isDatabaseUnavailable", () => {
  test.each([
    ["Postgres not listening", withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED"), true],
    [
      "Postgres shutting down under a query",
      withCode("terminating connection due to administrator command", "57P01"),
      true,
    ],
    ["Postgres starting up", withCode("the database system is starting up", "57P03"), true],
    ["a connection exception", withCode("connection failure", "08006"), true],
    ["the socket closed under a query", new Error("Connection terminated unexpectedly"), true],
    ["a client broken earlier", new Error("Client has encountered a connection error and is not queryable"), true],
    [
      "the cause of a wrapped error",
      new Error("while recording the attempt", { cause: withCode("connect ECONNREFUSED", "ECONNREFUSED") }),
      true,
    ],
    ["a unique violation", withCode("duplicate key value violates unique constraint", "23505"), false],
    ["a syntax error", withCode('syntax error at or near "selec"', "42601"), false],
    ["a bug of ours", new TypeError("Cannot read properties of undefined"), false],
    ["not an error", "ECONNREFUSED", false],
  ])("%s", (_case, error, unavailable) => {
    expect(isDatabaseUnavailable(error)).toBe(unavailable);
  });
});
