/**
 * The seams between the RPC and registry code and the metrics: small observer
 * interfaces, so `lib/triple` and `lib/registry` never import `lib/metrics` and metrics
 * stay in one place (like Dubbo's metrics filter).
 *
 * @module
 */

/** Which end of a call is recording. */
export type Side = "provider" | "consumer";

/** The service method a call targets; only registered methods are ever observed. */
export interface CallTarget {
  interface: string;
  method: string;
  group: string;
  version: string;
}

/**
 * Ends one observed call. `code` is `null` on success, else the Connect error code
 * (`unknown`, `deadline_exceeded`, `unavailable`, `resource_exhausted`, ...).
 */
export type CallEnd = (code: string | null) => void;

/** Records calls around every provider and consumer invocation. */
export interface CallObserver {
  /** Called when a call starts; the returned function must be called exactly once. */
  start(target: CallTarget): CallEnd;
}

/** Records registry activity (register, subscribe, notify). */
export interface RegistryObserver {
  /** A register attempt finished after `ms` milliseconds. */
  register(ok: boolean, ms: number): void;
  /** A subscribe attempt finished. */
  subscribe(ok: boolean): void;
  /** A provider-list notification delivered `providers` URLs after `ms` milliseconds. */
  notify(providers: number, ms: number): void;
  /** An application-level (instance + mapping) register attempt finished. */
  registerService?(ok: boolean, ms: number): void;
  /** An application-level subscribe attempt finished. */
  subscribeService?(ok: boolean, ms: number): void;
  /** A provider's metadata fetch (by revision) finished. */
  metadataSubscribe?(ok: boolean, ms: number): void;
}

/**
 * An observer that records nothing (metrics off, tests, benchmarks).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const target = { interface: "greet.GreetService", method: "Greet", group: "", version: "" };
 * const end = NO_CALLS.start(target);
 * assert.equal(end(null), undefined); // records nothing
 * ```
 */
export const NO_CALLS: CallObserver = { start: () => () => {} };

/** A registry observer that records nothing. */
export const NO_REGISTRY_EVENTS: RegistryObserver = {
  register: () => {},
  subscribe: () => {},
  notify: () => {},
};
