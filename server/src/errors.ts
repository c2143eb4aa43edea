import { retryAfterSeconds } from "./limits/sliding-window.ts";

/** An error the client caused, answered with its status and message. */
export class HttpError extends Error {
  readonly status: number;
  readonly details?: unknown;
  constructor(status: number, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

export const notFound = (what: string) => new HttpError(404, `${what} not found`);

/** 429: a fair-use limit was reached; answered with Retry-After, in whole seconds. */
export class TooManyRequests extends HttpError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterMs: number) {
    super(429, message);
    this.retryAfterSeconds = retryAfterSeconds(retryAfterMs);
  }
}
