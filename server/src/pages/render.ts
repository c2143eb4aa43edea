import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import type { Request, Response } from "express";
import type { User } from "../db/schema.ts";

export const WEB_DIR = fileURLToPath(new URL("../../../web/", import.meta.url));
const VIEWS_DIR = join(WEB_DIR, "views");

function hbsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".hbs"))
    .map((e) => join(e.parentPath, e.name));
}

/** What every page's layout needs besides the page itself. */
export interface PageChrome {
  title: string;
  user?: User;
  csrfToken?: string;
  notice?: string;
  /** The nav item to mark as the current page. */
  section?: "course" | "labs" | "attempts" | "dashboard" | "queue";
}

export type Renderer = ReturnType<typeof createRenderer>;

/**
 * Templates are compiled once at start: `web/views/<area>/<page>.hbs`, partials in
 * `web/views/partials/`, every page inside `layouts/main.hbs`. Templates hold no logic: the
 * page modules hand them ready-made view models (Handlebars escapes every `{{value}}`).
 */
export function createRenderer() {
  const hb = Handlebars.create();
  const templates = new Map<string, Handlebars.TemplateDelegate>();
  for (const file of hbsFiles(VIEWS_DIR)) {
    const name = relative(VIEWS_DIR, file).replace(/\.hbs$/, "");
    const source = readFileSync(file, "utf8");
    if (name.startsWith("partials/")) hb.registerPartial(name.slice("partials/".length), source);
    else templates.set(name, hb.compile(source));
  }
  const layout = templates.get("layouts/main");
  if (!layout) throw new Error(`no layout at ${join(VIEWS_DIR, "layouts/main.hbs")}`);

  const html = (page: string, chrome: PageChrome, model: object): string => {
    const template = templates.get(page);
    if (!template) throw new Error(`no view ${page}.hbs in ${VIEWS_DIR}`);
    const user = chrome.user && {
      name: chrome.user.name,
      role: chrome.user.role,
      isInstructor: chrome.user.role === "instructor",
    };
    const nav = { [chrome.section ?? "none"]: true };
    const common = { ...chrome, user, nav };
    return layout({ ...common, body: template({ ...common, ...model }) });
  };
  /** A page with the signed-in user, a CSRF token for its forms and any one-time notice. */
  const page = (
    req: Request,
    name: string,
    chrome: Omit<PageChrome, "user" | "csrfToken" | "notice">,
    model: object,
  ): string => {
    const notice = req.session?.notice;
    if (notice && req.session) delete req.session.notice;
    const csrfToken = req.csrfToken?.();
    return html(
      name,
      {
        ...chrome,
        ...(req.user ? { user: req.user } : {}),
        ...(csrfToken ? { csrfToken } : {}),
        ...(notice ? { notice } : {}),
      },
      model,
    );
  };
  return {
    html,
    page,
    send(
      req: Request,
      res: Response,
      name: string,
      chrome: Omit<PageChrome, "user" | "csrfToken" | "notice">,
      model: object,
      status = 200,
    ) {
      res
        .status(status)
        .type("html")
        .send(page(req, name, chrome, model));
    },
  };
}
