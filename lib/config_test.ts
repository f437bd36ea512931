import assert from "node:assert/strict";
import { ENV_VARS, parseConfig } from "./config.ts";
import { ConfigError } from "./config_types.ts";
import { parseDuration } from "./_duration.ts";

function error(program: "server" | "client" | "cleaner", args: string[], env = {}): string {
  try {
    parseConfig(program, args, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    assert.ok(!e.message.includes("\n"), "one line");
    return e.message;
  }
  assert.fail(`expected ${program} ${args.join(" ")} to be rejected`);
}

function server(args: string[], env = {}) {
  const parsed = parseConfig("server", args, env);
  assert.ok(!parsed.help);
  return parsed.config;
}

function client(args: string[], env = {}) {
  const parsed = parseConfig("client", args, env);
  assert.ok(!parsed.help);
  return parsed.config;
}

Deno.test("config: server defaults are the documented ones", () => {
  const config = server([]);
  assert.equal(config.port, 20000);
  assert.equal(config.metricsPort, 9099);
  assert.equal(config.metricsPath, "/prometheus");
  assert.equal(config.push, true);
  assert.equal(config.pushIntervalMs, 10_000);
  assert.equal(config.app, "dubbo-metrics-server");
  assert.equal(config.registry, "zookeeper");
  assert.equal(config.failureRate, 1 / 101);
  assert.equal(config.delayMs, 10);
  assert.equal(config.zkAddress, "127.0.0.1:2181");
  assert.equal(config.pushgateway.url, "http://127.0.0.1:9091");
  assert.equal(config.pushgateway.job, "dubbo_server");
  assert.equal(config.instance, undefined);
});

Deno.test("config: client defaults are the documented ones", () => {
  const config = client([]);
  assert.equal(config.metricsPort, 9097);
  assert.equal(config.app, "dubbo-metrics-client");
  assert.equal(config.intervalMs, 1000);
  assert.equal(config.concurrency, 1);
  assert.equal(config.count, 0);
  assert.equal(config.timeoutMs, 3000);
  assert.equal(config.retries, 2);
  assert.equal(config.serialization, "protobuf");
  assert.equal(config.pushgateway.job, "dubbo_client");
});

Deno.test("config: cleaner defaults are the documented ones", () => {
  const parsed = parseConfig("cleaner", [], {});
  assert.ok(!parsed.help);
  assert.equal(parsed.config.pushgateway.url, "http://127.0.0.1:9091");
  assert.equal(parsed.config.ttlMs, 3_600_000);
  assert.equal(parsed.config.jobPrefix, "dubbo_");
  assert.equal(parsed.config.daemon, false);
  assert.equal(parsed.config.intervalMs, 60_000);
  assert.equal(parsed.config.metricsPort, 9105);
  assert.equal(parsed.config.dryRun, false);
  const fromEnv = parseConfig("cleaner", [], { PUSHGATEWAY_URL: "pgw:9091" });
  assert.ok(!fromEnv.help);
  assert.equal(fromEnv.config.pushgateway.url, "http://pgw:9091");
  const empty = parseConfig("cleaner", ["--job-prefix="], {});
  assert.ok(!empty.help);
  assert.equal(empty.config.jobPrefix, "");
});

Deno.test("config: both flag spellings and Go booleans", () => {
  assert.equal(server(["--port", "20001"]).port, 20001);
  assert.equal(server(["--port=20002"]).port, 20002);
  assert.equal(server(["--push=false"]).push, false);
  assert.equal(server(["--push=true"]).push, true);
  assert.equal(server(["--push"]).push, true);
  assert.equal(server(["--no-push"]).push, false);
  assert.match(error("server", ["--push=maybe"]), /^--push: expected true or false/);
});

Deno.test("config: environment variables are read and normalized", () => {
  const config = client([], {
    PUSHGATEWAY_URL: "https://pgw.example:9443/",
    JOB_NAME: "dubbo_orders",
    PUSHGATEWAY_USER: "ops",
    PUSHGATEWAY_PASS: "s3cret",
    ZK_ADDRESS: "zk1:2181,zk2:2181/dubbo",
  });
  assert.equal(config.pushgateway.url, "https://pgw.example:9443");
  assert.equal(config.pushgateway.job, "dubbo_orders");
  assert.equal(config.pushgateway.user, "ops");
  assert.equal(config.pushgateway.pass, "s3cret");
  assert.equal(config.zkAddress, "zk1:2181,zk2:2181/dubbo");
  // Empty variables mean "unset", like the original's getEnv.
  assert.equal(client([], { PUSHGATEWAY_URL: "" }).pushgateway.url, "http://127.0.0.1:9091");
});

Deno.test("config: durations accept Go style and plain seconds", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("1m"), 60_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("2"), 2000);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("soon"), undefined);
  assert.equal(parseDuration("10 s"), undefined);
  assert.equal(parseDuration(""), undefined);
  assert.equal(client(["--interval=250ms"]).intervalMs, 250);
  assert.equal(server(["--delay=0"]).delayMs, 0);
});

Deno.test("config: --url and --registry=none", () => {
  assert.deepEqual(client(["--registry=none", "--url=tri://127.0.0.1:20001"]).url, {
    host: "127.0.0.1",
    port: 20001,
  });
  assert.deepEqual(client(["--url=10.0.0.1:20000"]).url, { host: "10.0.0.1", port: 20000 });
  assert.match(error("client", ["--registry=none"]), /^--url: required with --registry=none/);
  assert.match(error("client", ["--url=http://x:1"]), /^--url: expected tri:\/\/host:port/);
  assert.match(error("client", ["--url=tri://x"]), /^--url: expected tri:\/\/host:port/);
});

Deno.test("config: --protocol=grpc needs --http=2", () => {
  assert.equal(client(["--protocol=grpc", "--http=2"]).protocol, "grpc");
  assert.equal(client(["--protocol=triple", "--http=1.1"]).http, "1.1");
  assert.match(error("client", ["--http=1.1"]), /^--protocol=grpc needs --http=2/);
});

Deno.test("config: every bad value names its flag or variable", () => {
  const cases: [Parameters<typeof error>[0], string[], Record<string, string>, RegExp][] = [
    ["server", ["--port=abc"], {}, /^--port: expected a port 1-65535, got "abc"/],
    ["server", ["--port=0"], {}, /^--port: /],
    ["server", ["--port=70000"], {}, /^--port: /],
    ["server", ["--metrics-port=-1"], {}, /^--metrics-port: /],
    ["server", ["--failure-rate=2"], {}, /^--failure-rate: expected a number between 0 and 1/],
    ["server", ["--delay=fast"], {}, /^--delay: expected a duration/],
    ["server", ["--push-interval=0s"], {}, /^--push-interval: expected a positive duration/],
    ["server", ["--registry=etcd"], {}, /^--registry: expected one of zookeeper, none/],
    ["server", ["--metrics-path=metrics"], {}, /^--metrics-path: /],
    ["server", ["--host=my host"], {}, /^--host: /],
    ["server", ["--interval=1s"], {}, /^--interval: unknown flag/],
    ["server", ["--bogus"], {}, /^--bogus: unknown flag/],
    ["server", ["--port"], {}, /^--port: a value is required/],
    ["server", ["stray"], {}, /^stray: unexpected argument/],
    ["client", ["--interval=soon"], {}, /^--interval: expected a duration/],
    ["client", ["--timeout=0"], {}, /^--timeout: expected a positive duration/],
    ["client", ["--concurrency=0"], {}, /^--concurrency: expected an integer/],
    ["client", ["--count=-5"], {}, /^--count: /],
    ["client", ["--retries=x"], {}, /^--retries: /],
    ["client", ["--serialization=xml"], {}, /^--serialization: expected one of protobuf, json/],
    ["client", ["--advertise-ip=host"], {}, /^--advertise-ip: /],
    ["client", [], { PUSHGATEWAY_URL: "http://[bad" }, /^PUSHGATEWAY_URL: expected host:port/],
    ["client", [], { PUSHGATEWAY_URL: "ftp://pgw:21" }, /^PUSHGATEWAY_URL: expected an http/],
    ["client", [], { PUSHGATEWAY_URL: "http://u:p@pgw:9091" }, /^PUSHGATEWAY_URL: credentials/],
    ["client", [], { ZK_ADDRESS: "zk1:2181,:2181" }, /^ZK_ADDRESS: expected host:port/],
    ["client", [], { ZK_ADDRESS: "zk1:99999" }, /^ZK_ADDRESS: /],
    ["client", [], { ZK_ADDRESS: "zk1:2181/bad path" }, /^ZK_ADDRESS: /],
    ["client", [], { ZK_ADDRESS: "[::1]:2181" }, /^ZK_ADDRESS: .*IPv6/],
    ["client", [], { JOB_NAME: "a/b" }, /^JOB_NAME: /],
    ["client", [], { DUBBO_IP_TO_REGISTRY: "nope" }, /^DUBBO_IP_TO_REGISTRY: /],
    ["cleaner", ["--ttl=forever"], {}, /^--ttl: expected a positive duration/],
    ["cleaner", ["--pushgw=http://[bad"], {}, /^--pushgw: /],
    ["cleaner", ["--metrics-port=x"], {}, /^--metrics-port: /],
    ["cleaner", ["--push=false"], {}, /^--push: unknown flag/],
  ];
  for (const [program, args, env, expected] of cases) {
    assert.match(error(program, args, env), expected, `${program} ${args.join(" ")}`);
  }
});

Deno.test("config: --help returns usage listing every flag", () => {
  for (const program of ["server", "client", "cleaner"] as const) {
    const parsed = parseConfig(program, ["--help"], {});
    assert.ok(parsed.help);
    assert.match(parsed.usage, new RegExp(`deno task ${program}`));
    assert.match(parsed.usage, /--metrics-port/);
  }
  const serverUsage = parseConfig("server", ["--help"], {});
  assert.ok(serverUsage.help);
  for (
    const flag of ["--push", "--push-interval", "--instance", "--port", "--failure-rate", "--delay"]
  ) {
    assert.ok(serverUsage.usage.includes(flag), flag);
  }
  const clientUsage = parseConfig("client", ["--help"], {});
  assert.ok(clientUsage.help);
  for (
    const flag of ["--url", "--interval", "--concurrency", "--count", "--timeout", "--retries"]
  ) {
    assert.ok(clientUsage.usage.includes(flag), flag);
  }
});

Deno.test("config: parseArgs tokens: missing values, negation only for booleans, --", () => {
  assert.match(error("server", ["--port", "--push"]), /^--port: a value is required/);
  assert.match(error("server", ["--no-port"]), /^--no-port: unknown flag/);
  assert.match(error("server", ["--no-push=true"]), /^--no-push: unknown flag/);
  assert.match(error("server", ["-p"]), /^-p: unknown flag/);
  assert.match(error("server", ["--", "x"]), /^x: unexpected argument/);
  assert.equal(server(["--push=F"]).push, false);
  assert.equal(server(["--push=1"]).push, true);
  // The last occurrence wins, as with Go's flag package.
  assert.equal(server(["--port=20001", "--port=20002"]).port, 20002);
});

Deno.test("config: usage shows each typed default the way a user types it", () => {
  const server = parseConfig("server", ["--help"], {});
  assert.ok(server.help);
  assert.match(
    server.usage,
    /--failure-rate=<value> +share of calls failing with unknown \(default 0\.0099\)/,
  );
  assert.match(
    server.usage,
    /--delay=<value> +business delay per successful call \(default 10ms\)/,
  );
  assert.match(server.usage, /--push-interval=<value> +push period \(default 10s\)/);
  assert.match(server.usage, /JOB_NAME +push job label \(default dubbo_server\)/);
  const cleaner = parseConfig("cleaner", ["--help"], {});
  assert.ok(cleaner.help);
  assert.match(cleaner.usage, /--ttl=<value> +groups older than this are stale \(default 1h\)/);
  assert.doesNotMatch(cleaner.usage, /JOB_NAME|ZK_ADDRESS/);
});

Deno.test("config: ENV_VARS lists each program's variables once", () => {
  assert.deepEqual([...ENV_VARS.cleaner].sort(), [
    "PUSHGATEWAY_PASS",
    "PUSHGATEWAY_URL",
    "PUSHGATEWAY_USER",
  ]);
  for (const program of ["server", "client"] as const) {
    assert.deepEqual([...ENV_VARS[program]].sort(), [
      "DUBBO_IP_TO_REGISTRY",
      "JOB_NAME",
      "PUSHGATEWAY_PASS",
      "PUSHGATEWAY_URL",
      "PUSHGATEWAY_USER",
      "ZK_ADDRESS",
    ]);
  }
});
