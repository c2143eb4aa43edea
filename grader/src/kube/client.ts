import { KubeConfig, RequestContext, Watch, type HttpMethod } from "@kubernetes/client-node";
import { fetch } from "undici";
import type { KubeObject } from "../engine/trace.ts";

/** An error the API server returned, with its HTTP status and Status reason. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = "KubeApiError";
    this.status = status;
    this.reason = reason;
  }
}

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export interface ObjectKey {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
  /** Extra request headers (e.g. Impersonate-User, to probe what another subject may do). */
  headers?: Record<string, string>;
}

export const FIELD_MANAGER = "labgrader";

export interface KubeClient {
  readonly config: KubeConfig;
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** A GET whose body is read as it arrives (a followed pod log), until the server ends it or options.signal aborts. */
  stream(path: string, options?: RequestOptions): AsyncIterable<string>;
  resource(apiVersion: string, kind: string): Promise<ResourceInfo>;
  /** The REST path of a collection or, with a name, of one object (optionally a subresource). */
  path(info: ResourceInfo, namespace?: string, name?: string, subresource?: string): string;
  /** Creates the object: a KubeApiError 409 (AlreadyExists) if one of that name exists, which is left as it was. */
  create(object: KubeObject): Promise<KubeObject>;
  /** Server-side apply, forcing ownership of the fields we set. */
  apply(object: KubeObject, options?: { dryRun?: boolean; subresource?: string }): Promise<KubeObject>;
  get(key: ObjectKey): Promise<KubeObject | undefined>;
  list(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  patch(
    key: ObjectKey,
    patch: unknown,
    options?: { subresource?: string; type?: "merge" | "json" },
  ): Promise<KubeObject>;
  delete(key: ObjectKey, options?: { propagationPolicy?: "Foreground" | "Background" | "Orphan" }): Promise<boolean>;
  watch: Watch;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

interface DiscoveryList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

export function createKubeClient(kubeconfigPath: string): KubeClient {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const server = config.getCurrentCluster()?.server;
  if (!server) throw new Error(`kubeconfig ${kubeconfigPath} has no current cluster`);
  const discovery = new Map<string, Promise<DiscoveryList>>();

  async function send(method: string, path: string, options: RequestOptions, defaultTimeoutMs: number | undefined) {
    const url = new URL(path, server);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), method as HttpMethod);
    await config.applySecurityAuthentication(ctx);
    const headers = ctx.getHeaders();
    headers["Accept"] = "application/json";
    if (options.body !== undefined) headers["Content-Type"] = options.contentType ?? "application/json";
    Object.assign(headers, options.headers);
    return fetch(url, {
      method,
      headers,
      dispatcher: ctx.getDispatcher(),
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal ?? (defaultTimeoutMs ? AbortSignal.timeout(defaultTimeoutMs) : undefined),
    });
  }

  function failure(
    method: string,
    path: string,
    response: { status: number; statusText: string },
    text: string,
  ): KubeApiError {
    const status = (() => {
      try {
        return (JSON.parse(text) ?? {}) as { reason?: string; message?: string };
      } catch {
        return {};
      }
    })();
    return new KubeApiError(
      response.status,
      status.reason ?? response.statusText,
      `${method} ${path}: ${response.status} ${status.message ?? text}`,
    );
  }

  async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await send(method, path, options, 30_000);
    const text = await response.text();
    if (!response.ok) throw failure(method, path, response, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async function* stream(path: string, options: RequestOptions = {}): AsyncGenerator<string> {
    const response = await send("GET", path, options, undefined);
    if (!response.ok || !response.body) throw failure("GET", path, response, await response.text());
    const decoder = new TextDecoder();
    for await (const chunk of response.body) yield decoder.decode(chunk as Uint8Array, { stream: true });
  }

  async function resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const { group, version } = splitApiVersion(apiVersion);
    const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
    const find = async (fresh: boolean): Promise<ResourceInfo | undefined> => {
      if (fresh || !discovery.has(base))
        discovery.set(
          base,
          request<DiscoveryList>("GET", base).catch((e: unknown) => {
            discovery.delete(base);
            throw e;
          }),
        );
      const list = await discovery.get(base)!;
      const found = list.resources.find((r) => r.kind === kind && !r.name.includes("/"));
      return found && { group, version, kind, plural: found.name, namespaced: found.namespaced };
    };
    // A CRD installed after the first lookup is only seen by a fresh discovery.
    const info = (await find(false).catch(() => undefined)) ?? (await find(true).catch(() => undefined));
    if (!info) throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
    return info;
  }

  function path(info: ResourceInfo, namespace?: string, name?: string, subresource?: string): string {
    const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    const ns = info.namespaced && namespace ? `/namespaces/${namespace}` : "";
    return `${base}${ns}/${info.plural}${name ? `/${name}` : ""}${subresource ? `/${subresource}` : ""}`;
  }

  async function objectPath(key: ObjectKey, subresource?: string): Promise<string> {
    return path(await resource(key.apiVersion, key.kind), key.namespace, key.name, subresource);
  }

  return {
    config,
    request,
    stream,
    resource,
    path,
    async create(object) {
      const info = await resource(object.apiVersion, object.kind);
      return request<KubeObject>("POST", path(info, object.metadata.namespace), {
        body: object,
        query: { fieldManager: FIELD_MANAGER },
      });
    },
    async apply(object, options = {}) {
      const key = {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        namespace: object.metadata.namespace,
      };
      return request<KubeObject>("PATCH", await objectPath(key, options.subresource), {
        body: object,
        contentType: "application/apply-patch+yaml",
        query: { fieldManager: FIELD_MANAGER, force: true, dryRun: options.dryRun ? "All" : undefined },
      });
    },
    async get(key) {
      try {
        return await request<KubeObject>("GET", await objectPath(key));
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) return undefined;
        throw e;
      }
    },
    async list(apiVersion, kind, namespace, labelSelector) {
      const info = await resource(apiVersion, kind);
      const list = await request<{ items: KubeObject[]; metadata: { resourceVersion: string } }>(
        "GET",
        path(info, namespace),
        { query: { labelSelector } },
      );
      return {
        items: list.items.map((i) => ({ ...i, apiVersion, kind })),
        resourceVersion: list.metadata.resourceVersion,
      };
    },
    async patch(key, body, options = {}) {
      const contentType = options.type === "json" ? "application/json-patch+json" : "application/merge-patch+json";
      return request<KubeObject>("PATCH", await objectPath(key, options.subresource), {
        body,
        contentType,
        query: { fieldManager: FIELD_MANAGER },
      });
    },
    async delete(key, options = {}) {
      try {
        await request("DELETE", await objectPath(key), {
          body: {
            kind: "DeleteOptions",
            apiVersion: "v1",
            propagationPolicy: options.propagationPolicy ?? "Background",
          },
        });
        return true;
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) return false;
        throw e;
      }
    },
    watch: new Watch(config),
  };
}
