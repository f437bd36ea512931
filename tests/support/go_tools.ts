/**
 * Real gRPC tools built with `go install` at pinned versions into a cache directory
 * (`$XDG_CACHE_HOME` or `~/.cache`, then `dubbo-metrics-deno/go-bin`), built once and
 * reused by later runs: `grpcurl` (reflection client), `grpc-health-probe` (what a
 * Kubernetes gRPC probe does), `kustomize` (what `kubectl apply -k` runs, v5.5.0 as in
 * kubectl 1.32), `h2spec` (the HTTP/2 conformance suite, 145 cases) and `ghz` (a grpc-go
 * load generator).
 *
 * @module
 */

/** The pinned tools, by binary name. */
export const GO_TOOLS = {
  "grpcurl": "github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3",
  "grpc-health-probe": "github.com/grpc-ecosystem/grpc-health-probe@v0.4.62",
  "kustomize": "sigs.k8s.io/kustomize/kustomize/v5@v5.5.0",
  "h2spec": "github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible",
  "ghz": "github.com/bojand/ghz/cmd/ghz@v0.93.0",
} as const;

/** A tool's binary name. */
export type GoTool = keyof typeof GO_TOOLS;

function cacheDir(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") || `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/dubbo-metrics-deno/go-bin`;
}

function goBinary(): string {
  for (const candidate of ["/usr/local/go/bin/go", "/usr/bin/go"]) {
    try {
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch {
      // not there
    }
  }
  return "go";
}

/** Path of `tool`, building it with `go install` into the cache first if missing. */
export async function goTool(tool: GoTool): Promise<string> {
  const dir = cacheDir();
  const path = `${dir}/${tool}`;
  try {
    if (Deno.statSync(path).isFile) return path;
  } catch {
    // build it below
  }
  await Deno.mkdir(dir, { recursive: true });
  const result = await new Deno.Command(goBinary(), {
    args: ["install", GO_TOOLS[tool]],
    env: { GOBIN: dir, GOFLAGS: "-mod=mod" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new Error(
      `go install ${GO_TOOLS[tool]} failed: ${
        new TextDecoder().decode(result.stderr).slice(-2000)
      }`,
    );
  }
  return path;
}

/** Runs `tool` with `args` (bounded by `timeoutMs`); resolves to its exit code and output. */
export async function runGoTool(
  tool: GoTool,
  args: string[],
  timeoutMs = 20_000,
): Promise<CommandResult> {
  return runCommand(await goTool(tool), args, timeoutMs);
}

/** What {@linkcode runCommand} returns. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` with `args` (killed after `timeoutMs`); its exit code and output. */
export async function runCommand(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<CommandResult> {
  const result = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

// `deno run -A tests/support/go_tools.ts` builds every tool into the cache (CI warm-up).
if (import.meta.main) {
  for (const tool of Object.keys(GO_TOOLS) as GoTool[]) console.log(await goTool(tool));
}
