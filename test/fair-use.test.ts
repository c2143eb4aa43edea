import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDb } from "../server/src/db/connect.ts";
import { setPassword } from "../server/src/db/passwords.ts";
import { acceptSubmission } from "../server/src/db/submissions.ts";
import { addUser, issueToken } from "../server/src/db/users.ts";
import { referenceOperatorDir } from "./support/env.ts";
import { writeTemp } from "./support/hostile-archives.ts";
import { api, archiveForm, startStack, tarProject, type Stack } from "./support/service-stack.ts";

const LAB = "composing-operators";
const PASSWORD = "a long enough password";
/**
 * Small limits and short windows, so each test reaches a limit and sees it lift. A sign-in
 * sequence must fit in its window even on a busy host (each sign-in runs scrypt).
 */
const LIMITS = {
  LABGRADER_SIGN_IN_FAILURES_PER_ACCOUNT: "3",
  LABGRADER_SIGN_IN_FAILURES_PER_ADDRESS: "6",
  LABGRADER_SIGN_IN_WINDOW_MS: "30000",
  LABGRADER_SUBMISSIONS_PER_WINDOW: "3",
  LABGRADER_SUBMISSION_WINDOW_MS: "15000",
  // LABGRADER_STREAMS_PER_USER keeps its default, 5.
};

let stack: Stack;
const accounts = {} as Record<"ada" | "bob" | "cy" | "dee" | "ines" | "ci" | "ci2", { id: number; token: string }>;

beforeAll(async () => {
  stack = await startStack({ serverEnv: LIMITS });
  // Made in this process rather than with `labgrader users` (test/service-api.test.ts covers that): seven CLI starts take minutes on a busy host.
  const db = createDb(stack.db.url, { log: () => undefined, maxConnections: 1 });
  try {
    for (const name of ["ada", "bob", "cy", "dee", "ines", "ci", "ci2"] as const) {
      const role = name === "ines" ? "instructor" : name.startsWith("ci") ? "ci" : "learner";
      const user = await addUser(db, name, role);
      accounts[name] = { id: user.id, token: await issueToken(db, user.id, "fair-use test") };
      if (role !== "ci") await setPassword(db, name, PASSWORD);
    }
  } finally {
    await db.destroy();
  }
});

afterAll(async () => {
  await stack?.stop();
});

/**
 * A browser, as far as the pages care: it keeps its cookies, reads each form's CSRF token, and
 * comes from `address` (the service trusts X-Forwarded-For from loopback, as behind a proxy).
 */
class Browser {
  private readonly cookies = new Map<string, string>();
  private readonly address: string;
  csrfToken = "";
  constructor(address = "192.0.2.1") {
    this.address = address;
  }

  async request(method: "GET" | "POST", path: string, body?: URLSearchParams | FormData, signal?: AbortSignal) {
    const headers: Record<string, string> = {
      "x-forwarded-for": this.address,
      cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
    };
    const res = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers,
      body,
      redirect: "manual",
      ...(signal ? { signal } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      this.cookies.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
    }
    return res;
  }

  /** Opens a page and keeps the token of its forms. */
  async open(path: string): Promise<string> {
    const res = await this.request("GET", path);
    const html = await res.text();
    expect(res.status, html.slice(0, 300)).toBe(200);
    this.csrfToken = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    return html;
  }

  /** Posts the form as a browser would (urlencoded, with the page's token unless told otherwise). */
  async post(path: string, fields: Record<string, string>, withToken = true) {
    return this.request(
      "POST",
      path,
      new URLSearchParams({ ...(withToken ? { _csrf: this.csrfToken } : {}), ...fields }),
    );
  }

  /** Signs in from a fresh session, as a new visitor from this address. */
  async signIn(name: string, password: string) {
    this.cookies.clear();
    await this.open("/sign-in");
    const res = await this.post("/sign-in", { name, password, next: "/" });
    return { status: res.status, retryAfter: res.headers.get("retry-after"), text: await res.text() };
  }
}

/** The page's error message, as the person reads it. */
const alertOf = (html: string) => /role="alert"[^>]*>([^<]*)</.exec(html)?.[1]?.replaceAll("&#x27;", "'") ?? "";

describe("sign-in limits", () => {
  test("an account is refused after its failures (429, Retry-After, a message); a success starts it afresh; the refusal lifts with time", async () => {
    const browser = new Browser("198.51.100.1");
    expect((await browser.signIn("ada", "wrong")).status).toBe(401);
    expect((await browser.signIn("ada", "wrong")).status).toBe(401);
    expect((await browser.signIn("ada", PASSWORD)).status).toBe(303);
    // The success forgot both failures: three more fit before the limit of three.
    for (let i = 0; i < 3; i++) expect((await browser.signIn("ada", "wrong again")).status).toBe(401);
    const refused = await browser.signIn("ada", PASSWORD);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(30);
    expect(alertOf(refused.text)).toMatch(/^Too many failed sign-ins for this account\. Try again in \d+ seconds?;/);
    // Another account from the same address is not held back by ada's failures.
    expect((await browser.signIn("bob", PASSWORD)).status).toBe(303);
    await sleep(Number(refused.retryAfter) * 1000);
    expect((await browser.signIn("ada", PASSWORD)).status).toBe(303);
  });

  test("an address is refused after its failures whatever the account names, even when they come at once; its successes do not count; another address is not held back", async () => {
    const from = () => new Browser("203.0.113.9");
    const statuses = async (names: string[]) =>
      (await Promise.all(names.map(async (name) => (await from().signIn(name, "guess")).status))).sort();
    expect(await statuses(["nobody-0", "nobody-1", "nobody-2", "nobody-3", "nobody-4"])).toEqual([
      401, 401, 401, 401, 401,
    ]);
    expect((await from().signIn("bob", PASSWORD)).status).toBe(303);
    expect((await from().signIn("bob", PASSWORD)).status).toBe(303);
    // One place is left (the successes gave theirs back); three at once cannot all take it.
    expect(await statuses(["nobody-5", "nobody-6", "nobody-7"])).toEqual([401, 429, 429]);
    const browser = from();
    const refused = await browser.signIn("ada", PASSWORD);
    expect(refused.status).toBe(429);
    expect(alertOf(refused.text)).toMatch(/^Too many failed sign-ins from your network\. Try again in \d+ seconds?\.$/);
    expect((await new Browser("203.0.113.10").signIn("ada", PASSWORD)).status).toBe(303);
    await sleep(Number(refused.retryAfter) * 1000);
    expect((await browser.signIn("ada", PASSWORD)).status).toBe(303);
  });
});

describe("submission limit", () => {
  test("an account's submissions past the limit answer 429 with Retry-After; other accounts are unaffected; it lifts with time", async () => {
    const submit = (token: string) =>
      api<{ error?: string }>(stack, token, "POST", `/api/v1/labs/${LAB}/submissions`, { reference: true });
    for (let i = 0; i < 3; i++) expect((await submit(accounts.ci.token)).status).toBe(202);
    const refused = await submit(accounts.ci.token);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatch(
      /^You have submitted 3 times in the last 15 seconds, the most allowed; you can submit again in \d+ seconds?\.$/,
    );
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(15);
    expect((await submit(accounts.ci2.token)).status).toBe(202);
    await sleep(retryAfter * 1000);
    expect((await submit(accounts.ci.token)).status).toBe(202);
  });

  test("on the pages every upload counts, accepted or not, and the one past the limit is refused before it is read", async () => {
    const browser = new Browser();
    expect((await browser.signIn("dee", PASSWORD)).status).toBe(303);
    await browser.open(`/labs/${LAB}`);
    const notAnArchive = await writeTemp("a.tar.gz", Buffer.from("this is not an archive at all"));
    const upload = async () => {
      const form = await archiveForm(notAnArchive);
      form.append("_csrf", browser.csrfToken);
      const res = await browser.request("POST", `/labs/${LAB}/submissions`, form);
      return { status: res.status, retryAfter: res.headers.get("retry-after"), message: alertOf(await res.text()) };
    };
    for (let i = 0; i < 3; i++) expect((await upload()).status).toBe(400);
    const refused = await upload();
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(refused.message).toMatch(/^You have submitted 3 times in the last 15 seconds/);
  });
});

describe("open event streams", () => {
  let attemptId = "";
  const open: AbortController[] = [];
  /** Opens an attempt's event stream and holds it open; answers its status (and the error of a refusal). */
  const stream = async (via: { token: string } | { browser: Browser }) => {
    const controller = new AbortController();
    const res =
      "token" in via
        ? await fetch(`${stack.baseUrl}/api/v1/attempts/${attemptId}/events`, {
            headers: { authorization: `Bearer ${via.token}` },
            signal: controller.signal,
          })
        : await via.browser.request("GET", `/attempts/${attemptId}/events`, undefined, controller.signal);
    if (res.status === 200) open.push(controller);
    return {
      status: res.status,
      retryAfter: res.headers.get("retry-after"),
      body: res.status === 200 ? "" : await res.text(),
      controller,
    };
  };

  beforeAll(async () => {
    // A queued attempt of bob's: its stream stays open, as no worker runs in this file.
    const db = createDb(stack.db.url, { log: () => undefined, maxConnections: 1 });
    attemptId = (
      await acceptSubmission(
        db,
        { userId: accounts.bob.id, labId: LAB, labVersion: "test", kind: "reference" },
        async () => undefined,
      )
    ).attemptId;
    await db.destroy();
  });

  afterAll(() => {
    for (const c of open) c.abort();
  });

  test("a user's sixth open stream (API and pages together) answers 429; others are unaffected; closing one frees its place", async () => {
    const browser = new Browser();
    expect((await browser.signIn("bob", PASSWORD)).status).toBe(303);
    const streams = [];
    for (let i = 0; i < 4; i++) streams.push(await stream({ token: accounts.bob.token }));
    streams.push(await stream({ browser }));
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);

    const sixth = await stream({ token: accounts.bob.token });
    expect(sixth.status).toBe(429);
    expect(Number(sixth.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(sixth.body)).toEqual({
      error:
        "You already follow 5 attempts live, the most at once. Close one of those pages (or streams) and try again.",
    });
    expect((await stream({ browser })).status).toBe(429);
    // An instructor following the same attempt has places of their own.
    expect((await stream({ token: accounts.ines.token })).status).toBe(200);

    streams[0]!.controller.abort();
    let again = await stream({ token: accounts.bob.token });
    for (let tries = 0; again.status !== 200 && tries < 20; tries++) {
      await sleep(250);
      again = await stream({ token: accounts.bob.token });
    }
    expect(again.status).toBe(200);
    expect((await stream({ browser })).status).toBe(429);
  });

  test("places held by a server that died are free again once their leases lapse", async () => {
    const client = new pg.Client({ connectionString: stack.db.url });
    await client.connect();
    try {
      await client.query(
        "insert into stream_leases (user_id, expires_at) select $1, now() - interval '1 second' from generate_series(1, 5)",
        [accounts.ines.id],
      );
      expect((await stream({ token: accounts.ines.token })).status).toBe(200);
    } finally {
      await client.end();
    }
  });
});

describe("CSRF on page forms", () => {
  const countAttempts = async () => {
    const client = new pg.Client({ connectionString: stack.db.url });
    await client.connect();
    try {
      return Number((await client.query("select count(*) as n from attempts")).rows[0].n);
    } finally {
      await client.end();
    }
  };

  test("a multipart POST without the form's token is refused on every page route but the upload; the same forms with their token work", async () => {
    const browser = new Browser();
    expect((await browser.signIn("ines", PASSWORD)).status).toBe(303);
    await browser.open(`/instructor/labs/${LAB}`);
    const token = browser.csrfToken;
    expect(token).not.toBe("");
    const before = await countAttempts();
    const multipart = (fields: Record<string, string>) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      return form;
    };
    for (const path of [`/instructor/labs/${LAB}/regrade`, `/labs/${LAB}/image`, "/sign-out"]) {
      const bare = await browser.request("POST", path, multipart({}));
      expect(bare.status, path).toBe(403);
      expect(alertOf(await bare.text()), path).toBe("This form has expired. Go back, reload the page and try again.");
      // The token travels where the CSRF check reads it (a urlencoded form); inside multipart it is not read.
      expect((await browser.request("POST", path, multipart({ _csrf: token }))).status, path).toBe(403);
    }
    expect(await countAttempts()).toBe(before);
    const regrade = await browser.post(`/instructor/labs/${LAB}/regrade`, {});
    expect(regrade.status).toBe(303);
    expect(regrade.headers.get("location")).toBe(`/instructor/labs/${LAB}`);
  });

  test("the upload checks its own token: refused without it, accepted with it", async () => {
    const browser = new Browser();
    expect((await browser.signIn("cy", PASSWORD)).status).toBe(303);
    await browser.open(`/labs/${LAB}`);
    const archive = await tarProject(referenceOperatorDir);
    const withoutToken = await browser.request("POST", `/labs/${LAB}/submissions`, await archiveForm(archive));
    expect(withoutToken.status).toBe(403);
    const form = await archiveForm(archive);
    form.append("_csrf", browser.csrfToken);
    const accepted = await browser.request("POST", `/labs/${LAB}/submissions`, form);
    expect(accepted.status, (await accepted.text()).slice(0, 300)).toBe(303);
    expect(accepted.headers.get("location")).toMatch(/^\/attempts\/[0-9a-f-]{36}$/);
  });
});
