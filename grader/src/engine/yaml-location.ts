import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parseDocument, type Document } from "yaml";

/** A problem in a lab's files, located for an editor: `file:line: message`. */
export interface LabProblem {
  file: string;
  line: number;
  message: string;
}

export function formatProblem(problem: LabProblem): string {
  return `${problem.file}:${problem.line}: ${problem.message}`;
}

export type YamlPath = readonly (string | number)[];

/** A parsed YAML file that can say on which line a value sits. */
export interface LocatedYaml {
  file: string;
  documents: Document[];
  /** 1-based line of the value at `path` in document `index` (or of its closest existing parent). */
  lineOf: (path: YamlPath, index?: number) => number;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range?.[0];
}

function locate(doc: Document, path: YamlPath): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value === key : item.key === key));
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === "number" && node.items[key] !== undefined) {
      node = node.items[key];
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

/** Parses one or more YAML documents; syntax errors come back as problems with lines. */
export function parseYaml(file: string, text: string, multi = false): { yaml: LocatedYaml; problems: LabProblem[] } {
  const lineCounter = new LineCounter();
  const documents = multi ? parseAllDocuments(text, { lineCounter }) : [parseDocument(text, { lineCounter })];
  const list = Array.isArray(documents) ? documents : [];
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  const problems = list.flatMap((doc) =>
    [...doc.errors, ...doc.warnings].map((error) => ({
      file,
      line: lineAt(error.pos[0]),
      message: (error.message.split("\n")[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, ""),
    })),
  );
  const yaml: LocatedYaml = {
    file,
    documents: list,
    lineOf: (path, index = 0) => {
      const doc = list[index];
      return doc ? lineAt(locate(doc, path)) : 1;
    },
  };
  return { yaml, problems };
}
