/**
 * The suite's OpenMetrics parser: the reference one, Python `prometheus_client`'s (the
 * parser the OpenMetrics project's test suite holds implementations to; Prometheus's own is
 * more lenient and accepts, for example, a counter family named with `_total`). It is
 * installed once, pinned by version and hash (`openmetrics/requirements.txt`), into a venv
 * in the cache directory (`$XDG_CACHE_HOME` or `~/.cache`, then `dubbo-metrics-deno/`), with
 * the machine's `python3`.
 *
 * @module
 */

const HERE = new URL("./openmetrics/", import.meta.url).pathname;
const VERSION = "prometheus-client-0.26.0";

function venvDir(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") || `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/dubbo-metrics-deno/python-${VERSION}`;
}

async function run(command: string, args: string[], stdin?: string) {
  const child = new Deno.Command(command, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** The venv's python, creating the venv first if it is not there (safe from parallel tests). */
async function python(): Promise<string> {
  const dir = venvDir();
  const interpreter = `${dir}/bin/python`;
  try {
    if (Deno.statSync(interpreter).isFile) return interpreter;
  } catch { /* create it below */ }
  await Deno.mkdir(`${dir}/..`, { recursive: true });
  const scratch = await Deno.makeTempDir({ dir: `${dir}/..`, prefix: `.python-${VERSION}-` });
  const steps: [string, string[]][] = [
    ["python3", ["-m", "venv", scratch]],
    [`${scratch}/bin/pip`, [
      "install",
      "--quiet",
      "--disable-pip-version-check",
      "--require-hashes",
      "-r",
      `${HERE}requirements.txt`,
    ]],
  ];
  for (const [command, args] of steps) {
    const result = await run(command, args);
    if (result.code !== 0) {
      await Deno.remove(scratch, { recursive: true });
      throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr.slice(-2000)}`);
    }
  }
  // A venv's scripts name its own path: the interpreter link is what we run, by full path.
  try {
    await Deno.rename(scratch, dir);
  } catch {
    await Deno.remove(scratch, { recursive: true }); // another test made it meanwhile
  }
  return interpreter;
}

/** What the reference parser said of an exposition. */
export interface OpenMetricsVerdict {
  valid: boolean;
  /** `valid: N families`, or `invalid: <reason>`. */
  message: string;
}

/** Parses `body` with the reference OpenMetrics parser. */
export async function parseOpenMetrics(body: string): Promise<OpenMetricsVerdict> {
  const result = await run(await python(), [`${HERE}validate.py`], body);
  return { valid: result.code === 0, message: result.stdout || result.stderr };
}
