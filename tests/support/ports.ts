/** Free loopback TCP ports for test services (shared with tools/). */
export { freePort } from "../../tools/ports.ts";
