/**
 * A provider with business metrics of its own, next to Dubbo's: `server.ts`'s provider
 * plus a prom-client registry with a counter (with a label) and a histogram, recorded
 * around every Greet call. Both are served on the same `/prometheus` (text and OpenMetrics)
 * and pushed in the same Pushgateway group as Dubbo's families (README "Your own metrics").
 *
 *   deno task example --registry=none --push=false
 *
 * @module
 */
import { Counter, Histogram, Registry } from "prom-client";
import { GREET } from "../lib/greet/mod.ts";
import type { CallObserver } from "../lib/observe.ts";
import { runProvider } from "../server.ts";

// The business metrics, in a registry of their own.
const business = new Registry();
const greetings = new Counter({
  name: "greet_greetings_total",
  help: "Greetings answered, by outcome",
  labelNames: ["outcome"],
  registers: [business],
});
const answerTime = new Histogram({
  name: "greet_answer_seconds",
  help: "Time to answer a greeting",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  registers: [business],
});

/** Dubbo's families are recorded as in server.ts; the business ones around the same calls. */
function withBusinessMetrics(dubbo: CallObserver): CallObserver {
  return {
    start(target) {
      const end = dubbo.start(target);
      if (target.method !== GREET.method) return end;
      const stopTimer = answerTime.startTimer();
      return (code) => {
        end(code);
        stopTimer();
        greetings.inc({ outcome: code ?? "ok" });
      };
    },
  };
}

// Served and pushed with Dubbo's families; a name that clashes with theirs exits 2.
await runProvider({ registries: [business], observe: withBusinessMetrics });
