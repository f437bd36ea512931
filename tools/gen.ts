/**
 * `deno task gen`: generates `lib/gen/**\/*_pb.ts` from the `.proto` files under `proto/`
 * with `buf` and `protoc-gen-es` (both pinned npm packages), so no message schema is
 * written by hand. Both run under `proto/deno.json`, the generator's own config and lock:
 * buf's 120 MB of platform binaries stay out of every other task's download.
 *
 * @module
 */

/** The generator's config (pins and lock), beside `buf.gen.yaml`. */
export const GEN_CONFIG = "proto/deno.json";

/** The pinned `buf` CLI, run through Deno's npm support (as pinned in {@linkcode GEN_CONFIG}). */
export const BUF = "npm:@bufbuild/buf@1.75.0";

/** Runs `buf generate` with `proto/buf.gen.yaml`, writing under `<base>/lib/gen`. */
export async function generateInto(base: string): Promise<void> {
  const args = [
    "run",
    "-A",
    "--config",
    GEN_CONFIG,
    BUF,
    "generate",
    "proto",
    "--template",
    "proto/buf.gen.yaml",
  ];
  if (base !== ".") args.push("--output", base);
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`buf generate failed: ${new TextDecoder().decode(stderr).trim()}`);
  }
}

/** Every file below `dir`, by path relative to it, with its text. */
export async function listFiles(dir: string, prefix = ""): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) {
      for (const [k, v] of await listFiles(dir, name)) files.set(k, v);
    } else files.set(name, await Deno.readTextFile(`${dir}/${name}`));
  }
  return files;
}

if (import.meta.main) {
  await Deno.remove("lib/gen", { recursive: true }).catch(() => {});
  await generateInto(".");
  console.log("generated lib/gen from proto/");
}
