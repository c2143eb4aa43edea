import type { KubeObject } from "../engine/trace.ts";
import type { KubeClient } from "./client.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchTarget {
  apiVersion: string;
  kind: string;
  /** Omit to watch all namespaces. */
  namespace?: string;
  fieldSelector?: string;
  labelSelector?: string;
}

export interface WatchHandle {
  /** Resolves once the initial list is done and the watch is established from its resourceVersion. */
  ready: Promise<void>;
  stop(): void;
}

export interface WatchOptions {
  /** Report the objects that exist when the watch starts as ADDED. */
  emitInitial: boolean;
  onEvent: (type: WatchEventType, object: KubeObject) => void;
  /** A failure we cannot recover from (the resource vanished, access denied). */
  onError?: (error: Error) => void;
  /** How long the first list may keep failing transiently before the watch gives up (default 30 s). */
  startTimeoutMs?: number;
  /** The watch broke and is re-listed: versions written meanwhile may be missing (only the re-list's differences are reported). */
  onResync?: () => void;
}

function key(o: KubeObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

/**
 * A list-then-watch that never misses a version: it resumes from the last resourceVersion when the
 * API server or client-node ends the request, and relists (reporting the differences) on 410 Gone.
 */
export function watchResource(client: KubeClient, target: WatchTarget, options: WatchOptions): WatchHandle {
  let stopped = false;
  let abort: AbortController | undefined;
  let resourceVersion = "";
  const known = new Map<string, KubeObject>();
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => undefined);

  const emit = (type: WatchEventType, object: KubeObject) => {
    const withType = { ...object, apiVersion: target.apiVersion, kind: target.kind };
    if (type === "DELETED") known.delete(key(withType));
    else known.set(key(withType), withType);
    options.onEvent(type, withType);
  };

  async function relist(initial: boolean): Promise<void> {
    const info = await client.resource(target.apiVersion, target.kind);
    const list = await client.request<{ items: KubeObject[]; metadata: { resourceVersion: string } }>(
      "GET",
      client.path(info, target.namespace),
      {
        query: { fieldSelector: target.fieldSelector, labelSelector: target.labelSelector },
      },
    );
    const seen = new Set<string>();
    for (const item of list.items) {
      const withType = { ...item, apiVersion: target.apiVersion, kind: target.kind };
      seen.add(key(withType));
      const before = known.get(key(withType));
      if (initial && !options.emitInitial) known.set(key(withType), withType);
      else if (!before) emit("ADDED", withType);
      else if (before.metadata.resourceVersion !== withType.metadata.resourceVersion) emit("MODIFIED", withType);
    }
    for (const [k, object] of [...known]) if (!seen.has(k)) emit("DELETED", object);
    resourceVersion = list.metadata.resourceVersion;
  }

  async function startWatch(): Promise<void> {
    if (stopped) return;
    const info = await client.resource(target.apiVersion, target.kind);
    let gone = false;
    abort = await client.watch.watch(
      client.path(info, target.namespace),
      {
        resourceVersion,
        allowWatchBookmarks: true,
        fieldSelector: target.fieldSelector,
        labelSelector: target.labelSelector,
        timeoutSeconds: 240,
      },
      (type: string, object: KubeObject & { code?: number }) => {
        if (type === "BOOKMARK") {
          resourceVersion = object.metadata.resourceVersion ?? resourceVersion;
          return;
        }
        if (type === "ERROR") {
          if (object.code === 410) gone = true;
          return;
        }
        resourceVersion = object.metadata.resourceVersion ?? resourceVersion;
        emit(type as WatchEventType, object);
      },
      (err: unknown) => {
        if (stopped) return;
        const status = (err as { statusCode?: number } | null)?.statusCode;
        const resync = gone || status === 410;
        if (resync) options.onResync?.();
        const next = resync ? relist(false).then(startWatch) : startWatch();
        next.catch((e: unknown) => handleFailure(e));
      },
    );
  }

  function handleFailure(e: unknown): void {
    if (stopped) return;
    const error = e instanceof Error ? e : new Error(String(e));
    const status = (e as { status?: number; statusCode?: number }).status ?? (e as { statusCode?: number }).statusCode;
    if (status === 401 || status === 403 || status === 404) {
      options.onError?.(error);
      return;
    }
    // A transient failure (connection reset, 5xx): relist and carry on; differences are reported.
    options.onResync?.();
    setTimeout(() => {
      relist(false).then(startWatch).catch(handleFailure);
    }, 500).unref();
  }

  // Right after a CRD is established its storage may still answer 429 or 404 for a moment.
  const firstList = async (): Promise<void> => {
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        await relist(true);
        return;
      } catch (e) {
        const status = (e as { status?: number }).status;
        const transient = status === undefined || status === 404 || status === 429 || status >= 500;
        if (!transient || Date.now() + delay > deadline || stopped) throw e;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
  firstList()
    .then(startWatch)
    .then(resolveReady, (e: unknown) => {
      const error = e instanceof Error ? e : new Error(String(e));
      rejectReady(error);
      options.onError?.(error);
    });

  return {
    ready,
    stop() {
      stopped = true;
      abort?.abort();
    },
  };
}

/** Waits, by watching, until some version of the object satisfies the predicate; rejects after timeoutMs. */
export async function waitForObject(
  client: KubeClient,
  target: WatchTarget & { name: string },
  predicate: (object: KubeObject) => boolean,
  timeoutMs: number,
  description: string,
): Promise<KubeObject> {
  let handle: WatchHandle | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<KubeObject>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`)),
        timeoutMs,
      );
      handle = watchResource(
        client,
        { ...target, fieldSelector: `metadata.name=${target.name}` },
        {
          emitInitial: true,
          onEvent: (type, object) => {
            if (type !== "DELETED" && predicate(object)) resolve(object);
          },
          onError: reject,
        },
      );
    });
  } finally {
    clearTimeout(timer);
    handle?.stop();
  }
}
