/**
 * Runs the real `curl` binary as a peer client and returns what it received.
 *
 * @module
 */

/** What curl saw: the final status, lowercase headers and the raw body. */
export interface CurlResult {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
  /** The body as UTF-8 text. */
  text: string;
}

/** Options of {@linkcode curl}. */
export interface CurlOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Request body, sent as-is with `--data-binary`. */
  body?: Uint8Array | string;
  /** Speak HTTP/2 without upgrade (h2c prior knowledge). */
  http2?: boolean;
  /** Extra raw curl arguments. */
  args?: string[];
}

/**
 * Calls `url` with curl. The body goes through a temp file so binary bytes survive.
 *
 * @example
 * ```ts
 * const result = await curl(url, { headers: { "content-type": "application/json" }, body: "{}" });
 * ```
 */
export async function curl(url: string, options: CurlOptions = {}): Promise<CurlResult> {
  const dir = await Deno.makeTempDir({ prefix: "rpc-curl-" });
  try {
    const args = ["-s", "-S", "--max-time", "20", "-D", `${dir}/head`, "-o", `${dir}/body`];
    if (options.http2) args.push("--http2-prior-knowledge");
    if (options.method) args.push("-X", options.method);
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      args.push("-H", `${name}: ${value}`);
    }
    if (options.body !== undefined) {
      const bytes = typeof options.body === "string"
        ? new TextEncoder().encode(options.body)
        : options.body;
      await Deno.writeFile(`${dir}/request`, bytes);
      args.push("--data-binary", `@${dir}/request`);
    }
    args.push(...(options.args ?? []), url);
    const run = await new Deno.Command("curl", { args, stdout: "piped", stderr: "piped" }).output();
    if (!run.success) {
      throw new Error(`curl failed (${run.code}): ${new TextDecoder().decode(run.stderr)}`);
    }
    const head = await Deno.readTextFile(`${dir}/head`);
    // Skip interim responses (100 Continue): the last status block is the final one;
    // a block after it holds HTTP/2 trailers, merged into the headers.
    const blocks = head.split("\r\n\r\n").filter((block) => block.trim() !== "");
    let last = blocks.length - 1;
    while (last > 0 && !blocks[last].startsWith("HTTP/")) last--;
    const lines = blocks.slice(last).join("\r\n").split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    const body = await Deno.readFile(`${dir}/body`).catch(() => new Uint8Array(0));
    return { status, headers, body, text: new TextDecoder().decode(body) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
