import { parseArgs } from "node:util";
import { z } from "zod";
import { createDb, migrate } from "../db/connect.ts";
import { setPassword } from "../db/passwords.ts";
import { addUser, issueToken, listUsers } from "../db/users.ts";

export const usersHelp = `  labgrader users add NAME --role learner|instructor|ci [--json]
      create the account (or find it) and print a new API token for it (needs DATABASE_URL)
  labgrader users password NAME
      set the account's password for the pages, read from standard input (one line)
  labgrader users list [--json]
      every account and its role`;

const RoleSchema = z.enum(["learner", "instructor", "ci"]);

export interface UsersContext {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  log: (line: string) => void;
  /** Where a password is read from: standard input, so it never shows in the process list. */
  stdin?: NodeJS.ReadableStream;
}

async function readLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.includes("\n")) break;
  }
  return text.split(/\r?\n/)[0] ?? "";
}

export async function usersCommand(args: string[], ctx: UsersContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { role: { type: "string" }, json: { type: "boolean", default: false } },
  });
  const [action, name] = positionals;
  const databaseUrl = ctx.env.DATABASE_URL;
  if (!databaseUrl) {
    ctx.log(
      "labgrader users: set DATABASE_URL to the gradebook's Postgres (e.g. postgres://postgres@127.0.0.1:5432/labgrader)",
    );
    return 2;
  }
  const db = createDb(databaseUrl, { log: ctx.log, maxConnections: 2 });
  try {
    await migrate(db);
    if (action === "add") {
      const role = RoleSchema.safeParse(values.role);
      if (!name || !/^[A-Za-z0-9._@-]{1,64}$/.test(name) || !role.success) {
        ctx.log(`usage:\n${usersHelp}`);
        return 2;
      }
      const user = await addUser(db, name, role.data);
      const token = await issueToken(db, user.id, "cli");
      ctx.out(values.json ? JSON.stringify({ id: user.id, name: user.name, role: user.role, token }) : token);
      return 0;
    }
    if (action === "password") {
      if (!name) {
        ctx.log(`usage:\n${usersHelp}`);
        return 2;
      }
      const password = await readLine(ctx.stdin ?? process.stdin);
      if (password.length < 8) {
        ctx.log("labgrader users password: give a password of at least 8 characters on standard input");
        return 2;
      }
      if (!(await setPassword(db, name, password))) {
        ctx.log(`labgrader users password: no account named ${name}; create it with labgrader users add`);
        return 1;
      }
      ctx.out(`password set for ${name}`);
      return 0;
    }
    if (action === "list") {
      const users = await listUsers(db);
      ctx.out(values.json ? JSON.stringify(users) : users.map((u) => `${u.id}\t${u.role}\t${u.name}`).join("\n"));
      return 0;
    }
    ctx.log(`usage:\n${usersHelp}`);
    return 2;
  } finally {
    await db.destroy();
  }
}
