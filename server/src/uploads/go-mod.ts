// Reads go.mod as the go command does, so that what we judge is what `go build` acts on. The
// grammar follows golang.org/x/mod/modfile (read.go, rule.go); the line lookup follows
// cmd/go/internal/gover/gomod.go, which picks the toolchain before go.mod is parsed at all.
import { showName } from "./limits.ts";

/** One directive: its verb and its arguments as written (a quoted one keeps its quotes: see goModString). */
export interface GoModDirective {
  verb: string;
  args: string[];
  /** 1-based, for messages. */
  line: number;
}

/** A go.mod the go command would not accept either; the message names the line. */
export class GoModSyntaxError extends Error {}

interface Token {
  text: string;
  kind: "word" | "(" | ")" | "eol" | "eof";
  line: number;
}

// unicode.IsSpace; JavaScript's \s differs (it has U+FEFF, lacks U+0085).
const GO_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const IS_GO_SPACE = new RegExp(`^[${GO_SPACE}]$`);
// modfile's isIdent: printable, not a space, not one of the punctuation tokens.
const IDENT = new RegExp(`^(?![${GO_SPACE}()[\\]{},])[\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}]$`, "u");
const QUOTED: Record<string, RegExp> = { '"': /"(?:[^"\\\n]|\\[^\n])*"/y, "`": /`[^`\n]*`/y };

const syntaxError = (line: number, why: string) => new GoModSyntaxError(`line ${line}: ${why}`);

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const charAt = (at: number) => String.fromCodePoint(text.codePointAt(at) as number);
  while (i < text.length) {
    const c = charAt(i);
    if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (text.startsWith("//", i)) {
      // A comment runs to the end of its line and ends the line with it.
      const newline = text.indexOf("\n", i);
      tokens.push({ text: "\n", kind: "eol", line: line++ });
      i = newline === -1 ? text.length : newline + 1;
    } else if (text.startsWith("/*", i)) {
      throw syntaxError(line, "go.mod files use // comments, not /* */ comments");
    } else if (c === "\n") {
      tokens.push({ text: c, kind: "eol", line: line++ });
      i++;
    } else if (c === "(" || c === ")") {
      tokens.push({ text: c, kind: c, line });
      i++;
    } else if ("[]{},".includes(c)) {
      tokens.push({ text: c, kind: "word", line });
      i++;
    } else if (c === '"' || c === "`") {
      const pattern = QUOTED[c] as RegExp;
      pattern.lastIndex = i;
      const match = pattern.exec(text);
      if (!match) throw syntaxError(line, "a quoted string is not closed on its line");
      tokens.push({ text: match[0], kind: "word", line });
      i += match[0].length;
    } else if (IDENT.test(c)) {
      const start = i;
      while (i < text.length && IDENT.test(charAt(i)) && !text.startsWith("//", i)) i += charAt(i).length;
      tokens.push({ text: text.slice(start, i), kind: "word", line });
    } else {
      throw syntaxError(line, `unexpected character ${JSON.stringify(c)}`);
    }
  }
  tokens.push({ text: "", kind: "eof", line });
  return tokens;
}

const isEol = (t: Token) => t.kind === "eol" || t.kind === "eof";

/** Every directive of a go.mod, a block's lines under the block's verb. Throws GoModSyntaxError. */
export function parseGoMod(text: string): GoModDirective[] {
  const tokens = lex(text);
  const directives: GoModDirective[] = [];
  let i = 0;
  const peek = (ahead = 0) => tokens[Math.min(i + ahead, tokens.length - 1)] as Token;
  const take = () => tokens[Math.min(i++, tokens.length - 1)] as Token;
  const skipEol = () => void (peek().kind === "eol" && i++);

  const parseBlock = (words: Token[]) => {
    const opener = words[0] as Token;
    // The go command knows only one-word blocks (`require (`); anything else fails to parse.
    if (words.length > 1)
      throw syntaxError(opener.line, `unknown block type ${showName(words.map((w) => w.text).join(" "))}`);
    for (;;) {
      const next = peek();
      if (next.kind === "eof")
        throw syntaxError(opener.line, `the block ${showName(`${opener.text} (`)} is never closed`);
      if (next.kind === "eol") {
        i++;
      } else if (next.kind === ")") {
        i++;
        if (!isEol(peek())) throw syntaxError(next.line, "a closing parenthesis must end its line");
        return skipEol();
      } else {
        const args: Token[] = [];
        while (!isEol(peek())) args.push(take());
        skipEol();
        directives.push({ verb: opener.text, args: args.map((a) => a.text), line: next.line });
      }
    }
  };

  while (peek().kind !== "eof") {
    if (peek().kind === "eol") {
      i++;
      continue;
    }
    const words = [take()];
    for (;;) {
      const token = take();
      if (isEol(token)) {
        if (token.kind === "eof") i--;
        const [verb, ...args] = words as [Token, ...Token[]];
        directives.push({ verb: verb.text, args: args.map((a) => a.text), line: verb.line });
        break;
      }
      // `verb (` at the end of a line opens a block, `verb ( )` is an empty one; elsewhere a
      // parenthesis is just another token.
      if (token.kind === "(" && isEol(peek())) {
        skipEol();
        parseBlock(words);
        break;
      }
      if (token.kind === "(" && peek().kind === ")" && isEol(peek(1))) {
        i++;
        skipEol();
        break;
      }
      words.push(token);
    }
  }
  return directives;
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92, '"': 34 };

/** Go's strconv.Unquote of a double-quoted string: its escapes could otherwise hide a "..". */
function unquote(quoted: string): string | undefined {
  const body = quoted.slice(1, -1);
  const bytes: number[] = [];
  const utf8 = (point: number) => bytes.push(...Buffer.from(String.fromCodePoint(point)));
  for (let i = 0; i < body.length;) {
    if (body[i] !== "\\") {
      const point = body.codePointAt(i) as number;
      if (point === 0x22 || point === 0x0a) return undefined;
      utf8(point);
      i += point > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1] ?? "";
    const hex = (width: number) =>
      new RegExp(`^[0-9A-Fa-f]{${width}}$`).test(body.slice(i + 2, i + 2 + width))
        ? parseInt(body.slice(i + 2, i + 2 + width), 16)
        : undefined;
    if (e in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[e] as number);
      i += 2;
    } else if (/^[0-7]{3}$/.test(body.slice(i + 1, i + 4)) && parseInt(body.slice(i + 1, i + 4), 8) < 256) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 4;
    } else if (e === "x" && hex(2) !== undefined) {
      bytes.push(hex(2) as number);
      i += 4;
    } else if ((e === "u" && hex(4) !== undefined) || (e === "U" && hex(8) !== undefined)) {
      const point = hex(e === "u" ? 4 : 8) as number;
      if (point > 0x10ffff || (point >= 0xd800 && point < 0xe000)) return undefined;
      utf8(point);
      i += e === "u" ? 6 : 10;
    } else {
      return undefined;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** An argument's value as modfile's parseString reads it: unquoted, or refused if quoted oddly. */
export function goModString(arg: string, line: number): string {
  const value = arg.startsWith('"') ? unquote(arg) : /["'`]/.test(arg) ? undefined : arg;
  if (value === undefined) throw syntaxError(line, `${showName(arg)} is not a valid quoted string`);
  return value;
}

/**
 * The value of every line `key value // comment`, in a block or not, as the go command's lookup
 * sees them: it reads go and toolchain this way to pick a toolchain, even from a go.mod that then
 * fails to parse. (It stops at the first match; we judge them all.)
 */
export function goModLookup(text: string, key: string): { value: string; line: number }[] {
  const found: { value: string; line: number }[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = trimGoSpace(raw);
    if (!line.startsWith(key) || (line[key.length] !== " " && line[key.length] !== "\t")) return;
    found.push({ value: trimGoSpace(line.slice(key.length).split("//")[0] ?? ""), line: index + 1 });
  });
  return found;
}

// bytes.TrimSpace, by hand: a regular expression anchored at the end takes quadratic time on a long run of spaces.
function trimGoSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && IS_GO_SPACE.test(text[start] as string)) start++;
  while (end > start && IS_GO_SPACE.test(text[end - 1] as string)) end--;
  return text.slice(start, end);
}
