/** One object naming another through a reference field, e.g. Database/d2 → Backup/b (spec.backupRef.name). */
export interface ReferenceEdge {
  /** "Kind/name" of the referring object. */
  from: string;
  /** "Kind/name" of the object named. */
  to: string;
  /** The field holding the reference. */
  field: string;
  file: string;
  line: number;
}

/**
 * The cycles among references, each once, as the edges that form it. A Database whose
 * backupRef names a Backup of that same Database is such a cycle: each waits for the other.
 */
export function findReferenceCycles(edges: ReferenceEdge[]): ReferenceEdge[][] {
  const outgoing = new Map<string, ReferenceEdge[]>();
  for (const edge of edges) outgoing.set(edge.from, [...(outgoing.get(edge.from) ?? []), edge]);

  const cycles: ReferenceEdge[][] = [];
  const seen = new Set<string>();
  const walk = (node: string, trail: ReferenceEdge[]): void => {
    for (const edge of outgoing.get(node) ?? []) {
      const start = trail.findIndex((e) => e.from === edge.to);
      if (start >= 0 || edge.to === edge.from) {
        const cycle = edge.to === edge.from ? [edge] : [...trail.slice(start), edge];
        const key = cycle
          .map((e) => e.from)
          .sort()
          .join("|");
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
        continue;
      }
      walk(edge.to, [...trail, edge]);
    }
  };
  for (const node of outgoing.keys()) walk(node, []);
  return cycles;
}
