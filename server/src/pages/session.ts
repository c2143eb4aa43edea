import type { NextFunction, Request, RequestHandler, Response } from "express";
import connectPgSimple from "connect-pg-simple";
import cookieParser from "cookie-parser";
import { doubleCsrf } from "csrf-csrf";
import session from "express-session";
import type pg from "pg";
import type { Db } from "../db/connect.ts";
import { getUser } from "../db/users.ts";
import type { Role, User } from "../db/schema.ts";
import { HttpError } from "../errors.ts";

declare module "express-session" {
  interface SessionData {
    /** The signed-in account; its name and role are read again on every request. */
    userId: number;
    /** A one-time message for the next page (after a redirect). */
    notice: string;
  }
}

export interface SessionOptions {
  secret: string;
  pool: pg.Pool;
  /** Where the store's own failures (pruning expired sessions while Postgres is down) are reported, in one line. */
  log: (line: string) => void;
}

const SESSION_HOURS = 12;

/**
 * Page sessions: an httpOnly, SameSite=Lax cookie naming a row in Postgres (connect-pg-simple),
 * so every server process knows every session and signing out ends it everywhere. The API's
 * bearer tokens are untouched: this runs only for the pages.
 */
export function sessionMiddleware(options: SessionOptions): RequestHandler[] {
  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    pool: options.pool,
    tableName: "page_sessions",
    createTableIfMissing: false,
    pruneSessionInterval: 15 * 60,
    // By default connect-pg-simple hands the whole error object to console.error.
    errorLog: (message: string, error?: unknown) =>
      options.log(`sessions: ${message} ${error instanceof Error ? error.message : String(error ?? "")}`.trim()),
  });
  return [
    cookieParser(),
    session({
      name: "labgrader.sid",
      secret: options.secret,
      store,
      resave: false,
      saveUninitialized: false,
      // "auto": Secure whenever the request came over HTTPS (trust proxy is loopback, see app.ts).
      cookie: { httpOnly: true, sameSite: "lax", secure: "auto", maxAge: SESSION_HOURS * 3600_000 },
    }),
  ];
}

/**
 * Double-submit CSRF tokens bound to the session: every form carries `_csrf`, its twin is a
 * cookie, and both are an HMAC of the session id. Every POST is checked before its route runs,
 * multipart or not, except a multipart POST to the one route `routeChecksToken` is mounted on:
 * the upload's token is a field of a body only multer reads, so that route checks it with `validate`.
 */
export function csrfProtection(secret: string) {
  const checkedByRoute = new WeakSet<Request>();
  const csrf = doubleCsrf({
    getSecret: () => secret,
    // Before sign-in there is no stored session; the sign-in form's token is then bound to nothing but the cookie.
    getSessionIdentifier: (req) => (req.session?.userId ? req.session.id : ""),
    cookieName: "labgrader.csrf",
    // Not Secure-only: the token alone is useless without the session cookie, which is Secure over HTTPS.
    cookieOptions: { sameSite: "lax", secure: false, httpOnly: true, path: "/" },
    getCsrfTokenFromRequest: (req) => (req.body as { _csrf?: string } | undefined)?._csrf,
    skipCsrfProtection: (req) => checkedByRoute.has(req),
    errorConfig: { statusCode: 403, message: "This form has expired. Go back, reload the page and try again." },
  });
  /** Mounted on the one route that validates its multipart form's token itself, before `middleware`. */
  const routeChecksToken: RequestHandler = (req, _res, next) => {
    if (req.is("multipart/form-data")) checkedByRoute.add(req);
    next();
  };
  return { middleware: csrf.doubleCsrfProtection, validate: csrf.validateRequest, routeChecksToken };
}

/** Sets req.user from the session; a deleted account ends the session. */
export function loadUser(db: Db): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const id = req.session?.userId;
    if (id !== undefined) {
      const user = await getUser(db, id);
      if (user) req.user = user;
      else delete req.session.userId;
    }
    next();
  };
}

/** Thrown where a page needs a signed-in user; the error handler sends the browser to sign in. */
export class SignInRequired extends Error {}

export function pageUser(req: Request, ...roles: Role[]): User {
  if (!req.user) throw new SignInRequired("sign in first");
  if (roles.length > 0 && !roles.includes(req.user.role))
    throw new HttpError(403, `Only ${roles.join(" or ")} accounts may open this page.`);
  return req.user;
}

/** Starts a fresh session for the user (a new id, so a session fixed before sign-in is worthless). */
export async function signIn(req: Request, user: User): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    req.session.regenerate((error: unknown) =>
      error ? reject(new Error("while starting a session", { cause: error })) : resolve(),
    ),
  );
  req.session.userId = user.id;
  await saveSession(req);
}

/**
 * Redirects to the page that shows a one-time notice, once the session holding it is stored.
 * Left to itself, express-session sends a response's headers before its store has the change,
 * and a browser that follows the redirect at once reads the session without the notice.
 */
export async function redirectWithNotice(req: Request, res: Response, url: string, notice: string): Promise<void> {
  req.session.notice = notice;
  await saveSession(req);
  res.redirect(303, url);
}

function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.save((error: unknown) =>
      error ? reject(new Error("while saving a session", { cause: error })) : resolve(),
    ),
  );
}

export function signOut(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.destroy((error: unknown) =>
      error ? reject(new Error("while ending a session", { cause: error })) : resolve(),
    ),
  );
}
