/**
 * A {@linkcode CallObserver} that remembers every call, for asserting what the RPC
 * layer reports (not a mock of anything external: the observer seam is ours).
 *
 * @module
 */
import type { CallObserver, CallTarget } from "../../lib/observe.ts";

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
