/** This project's version: the `application_version` label and the registry's `release`. */
export const VERSION = "0.1.0";

/** Dubbo's `release` URL parameter for our nodes. */
export const RELEASE = `dubbo-metrics-deno-${VERSION}`;
