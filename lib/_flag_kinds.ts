/**
 * Value kinds of command-line flags: each parses one raw string into a typed value
 * (or throws a one-line {@linkcode ConfigError} naming the culprit) and shows a typed
 * default the way a user would type it, so help text never restates a default.
 *
 * @module
 */
import { formatMs, parseDuration } from "./_duration.ts";
import { ConfigError, type DirectUrl } from "./config_types.ts";

/** How a flag's raw text becomes a value of type `T`, and how a `T` is written back. */
export interface Kind<T> {
  /** `boolean` flags take no value (`--push`), or a Go-style one (`--push=false`). */
  type: "string" | "boolean";
  /** Parses `raw`; throws {@linkcode ConfigError} starting with `culprit`. */
  parse(raw: string, culprit: string): T;
  /** The value as a user would type it, for help text. */
  show(value: T): string;
}

const bad = (culprit: string, expected: string, raw: string) =>
  new ConfigError(`${culprit}: expected ${expected}, got "${raw}"`);

/**
 * A Go-style boolean: `true`, `false`, `1`, `0`, `t`, `f` in any case.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(boolean.parse("False", "--push"), false);
 * ```
 */
export const boolean: Kind<boolean> = {
  type: "boolean",
  parse(raw, culprit) {
    const value = raw.toLowerCase();
    if (["true", "1", "t"].includes(value)) return true;
    if (["false", "0", "f"].includes(value)) return false;
    throw bad(culprit, "true or false", raw);
  },
  show: String,
};

/**
 * Free text, trimmed of nothing; `nonEmpty` rejects blank text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(text().parse(" ", "--name"), " ");
 * assert.throws(() => text({ nonEmpty: "a name" }).parse(" ", "--name"), /--name: expected a name/);
 * ```
 */
export function text(check?: { nonEmpty: string }): Kind<string> {
  return {
    type: "string",
    parse(raw, culprit) {
      if (check && raw.trim() === "") {
        throw new ConfigError(`${culprit}: expected ${check.nonEmpty}`);
      }
      return raw;
    },
    show: (value) => value,
  };
}

/**
 * A TCP port, 1-65535.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(port.parse("20000", "--port"), 20000);
 * assert.throws(() => port.parse("0", "--port"), /--port: expected a port 1-65535, got "0"/);
 * ```
 */
export const port: Kind<number> = {
  type: "string",
  parse(raw, culprit) {
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= 1 && value <= 65535)) throw bad(culprit, "a port 1-65535", raw);
    return value;
  },
  show: String,
};

/**
 * A decimal integer in `[min, max]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(integer(1, 10).parse("7", "--workers"), 7);
 * assert.throws(() => integer(1, 10).parse("-1", "--workers"), /an integer 1-10/);
 * ```
 */
export function integer(min: number, max: number): Kind<number> {
  return {
    type: "string",
    parse(raw, culprit) {
      const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!(value >= min && value <= max)) throw bad(culprit, `an integer ${min}-${max}`, raw);
      return value;
    },
    show: String,
  };
}

/**
 * A share between 0 and 1; shown with two significant digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(rate.show(1 / 101), "0.0099");
 * ```
 */
export const rate: Kind<number> = {
  type: "string",
  parse(raw, culprit) {
    const value = /^(\d+(\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= 0 && value <= 1)) throw bad(culprit, "a number between 0 and 1", raw);
    return value;
  },
  show: (value) => String(Number(value.toPrecision(2))),
};

/**
 * A duration in milliseconds, written Go style (`500ms`, `10s`, `1m`) or as seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(duration({ zero: false }).parse("1m30s", "--ttl"), 90_000);
 * assert.equal(duration({ zero: true }).show(3_600_000), "1h");
 * ```
 */
export function duration(options: { zero: boolean }): Kind<number> {
  const what = options.zero ? "a duration" : "a positive duration";
  return {
    type: "string",
    parse(raw, culprit) {
      const value = parseDuration(raw);
      if (value === undefined || (!options.zero && value === 0)) {
        throw bad(culprit, `${what} like 500ms, 10s, 1m or seconds`, raw);
      }
      return value;
    },
    show: formatMs,
  };
}

/**
 * One of a fixed list of words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const protocol = oneOf(["tri", "grpc"]);
 * assert.equal(protocol.parse("grpc", "--protocol"), "grpc");
 * assert.throws(() => protocol.parse("http", "--protocol"), /one of tri, grpc/);
 * ```
 */
export function oneOf<const T extends string>(choices: readonly T[]): Kind<T> {
  return {
    type: "string",
    parse(raw, culprit) {
      const found = choices.find((choice) => choice === raw);
      if (found === undefined) throw bad(culprit, `one of ${choices.join(", ")}`, raw);
      return found;
    },
    show: (value) => value,
  };
}

/**
 * A URL path starting with `/`, of word characters, `-`, `.` and `/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(path.parse("/prometheus", "--metrics-path"), "/prometheus");
 * assert.throws(() => path.parse("metrics?x", "--metrics-path"), /a path starting with \//);
 * ```
 */
export const path: Kind<string> = {
  type: "string",
  parse(raw, culprit) {
    if (!/^\/[\w\-./]*$/.test(raw)) throw bad(culprit, "a path starting with /", raw);
    return raw;
  },
  show: (value) => value,
};

/**
 * An IPv4 or IPv6 address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(ip.parse("::1", "--advertise-ip"), "::1");
 * assert.throws(() => ip.parse("300.1.1.1", "--advertise-ip"), /an IPv4 or IPv6 address/);
 * ```
 */
export const ip: Kind<string> = {
  type: "string",
  parse(raw, culprit) {
    if (!isIp(raw)) throw bad(culprit, "an IPv4 or IPv6 address", raw);
    return raw;
  },
  show: (value) => value,
};

/**
 * An address to bind a listener to: an IP or `localhost`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(bindHost.parse("localhost", "--host"), "localhost");
 * assert.throws(() => bindHost.parse("example.com", "--host"), /an IP address to bind to/);
 * ```
 */
export const bindHost: Kind<string> = {
  type: "string",
  parse(raw, culprit) {
    if (!isIp(raw) && raw !== "localhost") throw bad(culprit, "an IP address to bind to", raw);
    return raw;
  },
  show: (value) => value,
};

/**
 * A provider given directly: `tri://host:port` or `host:port`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(directUrl.parse("127.0.0.1:20000", "--url"), { host: "127.0.0.1", port: 20000 });
 * assert.equal(directUrl.show({ host: "::1", port: 20000 }), "tri://[::1]:20000");
 * ```
 */
export const directUrl: Kind<DirectUrl> = {
  type: "string",
  parse(raw, culprit) {
    const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `tri://${raw}`;
    const url = withScheme.startsWith("tri://")
      ? URL.parse(withScheme.replace(/^tri:/, "http:"))
      : null;
    const portNumber = Number(url?.port);
    if (!url || url.hostname === "" || !(portNumber >= 1 && portNumber <= 65535)) {
      throw bad(culprit, "tri://host:port", raw);
    }
    return { host: url.hostname.replace(/^\[|\]$/g, ""), port: portNumber };
  },
  show: ({ host, port }) => `tri://${host.includes(":") ? `[${host}]` : host}:${port}`,
};

/**
 * A Pushgateway address: `http://` assumed without a scheme, `https://` allowed, no
 * query, credentials rejected (PUSHGATEWAY_USER/PASS carry them); no trailing slash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(pushgatewayUrl.parse("pgw:9091/", "PUSHGATEWAY_URL"), "http://pgw:9091");
 * ```
 */
export const pushgatewayUrl: Kind<string> = {
  type: "string",
  parse(raw, culprit) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
    const url = URL.parse(withScheme);
    const fail = (why: string) => new ConfigError(`${culprit}: ${why}`);
    if (!url) throw fail("expected host:port or http(s)://host:port, got a malformed URL");
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw fail(`expected an http:// or https:// URL, got scheme "${url.protocol}"`);
    }
    if (url.username || url.password) {
      throw fail(
        "credentials in the URL are not allowed; use PUSHGATEWAY_USER and PUSHGATEWAY_PASS",
      );
    }
    if (url.search || url.hash) throw fail("expected no query or fragment in the Pushgateway URL");
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  },
  show: (value) => value,
};

/**
 * A Pushgateway `job` label value: no `/`, which would split the URL path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(job.parse("dubbo_server", "JOB_NAME"), "dubbo_server");
 * assert.throws(() => job.parse("a/b", "JOB_NAME"), /without "\/"/);
 * ```
 */
export const job: Kind<string> = {
  type: "string",
  parse(raw, culprit) {
    if (raw.includes("/")) throw bad(culprit, 'a job name without "/"', raw);
    return raw;
  },
  show: (value) => value,
};

/**
 * A ZooKeeper connect string: `host:port[,host:port...][/chroot]`, hostnames or IPv4
 * (the ZooKeeper client cannot use IPv6 literals).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(zkAddress.parse("zk1:2181,zk2/dubbo", "ZK_ADDRESS"), "zk1:2181,zk2/dubbo");
 * assert.throws(() => zkAddress.parse("[::1]:2181", "ZK_ADDRESS"), /IPv6 literal/);
 * ```
 */
export const zkAddress: Kind<string> = {
  type: "string",
  parse(raw, culprit) {
    const slash = raw.indexOf("/");
    const hosts = slash === -1 ? raw : raw.slice(0, slash);
    const chroot = slash === -1 ? "" : raw.slice(slash);
    const fail = (why: string) =>
      new ConfigError(`${culprit}: expected host:port[,host:port...][/chroot], ${why} in "${raw}"`);
    if (chroot !== "" && !/^(\/[\w.\-]+)+$/.test(chroot)) throw fail("bad chroot path");
    for (const part of hosts.split(",")) {
      if (part.trim().startsWith("[")) {
        throw fail(`IPv6 literal "${part}" (the ZooKeeper client cannot use it; use a hostname)`);
      }
      const match = /^([\w.\-]+)(?::(\d+))?$/.exec(part.trim());
      if (!match) throw fail(`bad host "${part}"`);
      const portNumber = match[2] === undefined ? 2181 : Number(match[2]);
      if (!(portNumber >= 1 && portNumber <= 65535)) throw fail(`bad port "${match[2]}"`);
    }
    return raw;
  },
  show: (value) => value,
};

function isIp(value: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(value)) {
    return value.split(".").every((part) => Number(part) <= 255);
  }
  return /^[0-9a-fA-F:]+$/.test(value) && value.includes(":");
}
