import type { NextFunction, Request, Response } from "express";
import type { Db } from "./db/connect.ts";
import type { Role, User } from "./db/schema.ts";
import { userForToken } from "./db/users.ts";
import { HttpError } from "./errors.ts";

declare module "express-serve-static-core" {
  interface Request {
    /** The signed-in user, set by `authenticate`. */
    user?: User;
  }
}

/** Bearer tokens: `Authorization: Bearer lg_…`. Every /api/v1 route needs one. */
export function authenticate(db: Db) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new HttpError(401, "sign in: send Authorization: Bearer <token>");
    const user = await userForToken(db, match[1]!);
    if (!user) throw new HttpError(401, "unknown or revoked token");
    req.user = user;
    next();
  };
}

export function currentUser(req: Request): User {
  if (!req.user) throw new HttpError(401, "not signed in");
  return req.user;
}

export function requireRole(req: Request, ...roles: Role[]): User {
  const user = currentUser(req);
  if (!roles.includes(user.role)) throw new HttpError(403, `only ${roles.join(" or ")} accounts may do this`);
  return user;
}

/** Instructors read everyone's work; learners and CI accounts only their own. */
export const canRead = (user: User, ownerId: number) => user.role === "instructor" || user.id === ownerId;
