import type { Db } from "../db/connect.ts";
import { clearBucket, returnHits, takeHit, type Bucket } from "../db/rate-limits.ts";
import { clientNetwork } from "./client-network.ts";
import { durationText } from "./sliding-window.ts";

export interface SignInLimits {
  failuresPerAccount: number;
  failuresPerAddress: number;
  windowMs: number;
}

export type SignInAdmission =
  { admitted: true; hitIds: string[] } | { admitted: false; retryAfterMs: number; message: string };

const accountBucket = (name: string) => `sign-in:account:${name.toLowerCase()}`;

/**
 * Failed sign-ins are limited per account name and per client network, before the password is
 * checked (scrypt is what an attacker would make us spend). An attempt takes its place in both
 * windows up front, so many at once cannot all slip under the limit; a sign-in that succeeds
 * gives its place back and starts the account afresh. What stays counted are the failures.
 */
export function createSignInGate(db: Db, limits: SignInLimits) {
  const buckets = (name: string, ip: string): Bucket[] => [
    { name: accountBucket(name), limit: limits.failuresPerAccount, windowMs: limits.windowMs },
    { name: `sign-in:address:${clientNetwork(ip)}`, limit: limits.failuresPerAddress, windowMs: limits.windowMs },
  ];
  return {
    async admit(name: string, ip: string): Promise<SignInAdmission> {
      const hit = await takeHit(db, buckets(name, ip));
      if (hit.taken) return { admitted: true, hitIds: hit.hitIds };
      const wait = durationText(hit.retryAfterMs);
      const message =
        hit.bucket === accountBucket(name)
          ? `Too many failed sign-ins for this account. Try again in ${wait}; if you have forgotten your password, ask your instructor to set a new one.`
          : `Too many failed sign-ins from your network. Try again in ${wait}.`;
      return { admitted: false, retryAfterMs: hit.retryAfterMs, message };
    },
    async succeeded(name: string, admission: { hitIds: string[] }): Promise<void> {
      await returnHits(db, admission.hitIds);
      await clearBucket(db, accountBucket(name));
    },
  };
}
export type SignInGate = ReturnType<typeof createSignInGate>;
