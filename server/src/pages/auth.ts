import { Router } from "express";
import { z } from "zod";
import type { Db } from "../db/connect.ts";
import { userForPassword } from "../db/passwords.ts";
import type { SignInGate } from "../limits/sign-in.ts";
import { retryAfterSeconds } from "../limits/sliding-window.ts";
import type { Renderer } from "./render.ts";
import { signIn, signOut } from "./session.ts";

const SignInSchema = z.object({
  name: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(1024),
  next: z.string().optional(),
});

/** Only a path on this site: "/labs", never "//evil.example" or "https://…". */
const safeNext = (next: string | undefined) => (next && /^\/(?![/\\])[\w\-./?=&%]*$/.test(next) ? next : "/");

export function authPages(db: Db, view: Renderer, limits: SignInGate): Router {
  const router = Router();

  router.get("/", (req, res) => {
    if (!req.user) return res.redirect(303, "/sign-in");
    res.redirect(303, req.user.role === "instructor" ? "/instructor" : "/labs");
  });

  router.get("/sign-in", (req, res) => {
    if (req.user) return res.redirect(303, "/");
    const next = typeof req.query.next === "string" ? safeNext(req.query.next) : "/";
    view.send(req, res, "auth/sign-in", { title: "Sign in" }, { next });
  });

  router.post("/sign-in", async (req, res) => {
    const form = SignInSchema.safeParse(req.body);
    const refuse = (error: string, status: number) =>
      view.send(
        req,
        res,
        "auth/sign-in",
        { title: "Sign in" },
        { next: safeNext(form.data?.next), name: form.data?.name ?? "", error },
        status,
      );
    const mismatch = "That account name and password do not match.";
    if (!form.success) return refuse(mismatch, 401);
    // Counted before the password is checked: the check (scrypt) is the cost to keep bounded.
    const admission = await limits.admit(form.data.name, req.ip ?? req.socket.remoteAddress ?? "unknown");
    if (!admission.admitted) {
      res.set("retry-after", String(retryAfterSeconds(admission.retryAfterMs)));
      return refuse(admission.message, 429);
    }
    const user = await userForPassword(db, form.data.name, form.data.password);
    if (!user) return refuse(mismatch, 401);
    await limits.succeeded(form.data.name, admission);
    await signIn(req, user);
    res.redirect(303, safeNext(form.data.next));
  });

  router.post("/sign-out", async (req, res) => {
    await signOut(req);
    res.clearCookie("labgrader.sid").redirect(303, "/sign-in");
  });

  return router;
}
