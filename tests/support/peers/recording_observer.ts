/**
 * A {@linkcode CallObserver} that remembers every call, for asserting what the RPC
 * layer reports (not a mock of anything external: the observer seam is ours).
 *
 * @module
 */
import type { CallObserver, CallTarget } from "../../../lib/observe.ts";

/** One observed call: its target and the end codes reported (must be exactly one). */
export interface ObservedCall {
  target: CallTarget;
  ends: (string | null)[];
}

/** Creates an observer plus the list it records into. */
export function recordingObserver(): { observer: CallObserver; calls: ObservedCall[] } {
  const calls: ObservedCall[] = [];
  const observer: CallObserver = {
    start(target) {
      const call: ObservedCall = { target, ends: [] };
      calls.push(call);
      return (code) => {
        call.ends.push(code);
      };
    },
  };
  return { observer, calls };
}

/** Polls `condition` until it holds or `timeoutMs` passes. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
