/**
 * The label on everything labgrader creates (clusters, namespaces, objects, Docker networks), so
 * teardown and orphan reaping work by selector.
 */
export const MANAGED_BY_LABELS = { "app.kubernetes.io/managed-by": "labgrader" } as const;
