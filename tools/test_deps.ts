/**
 * First step of `deno task test`: makes sure the Debian packages the suite starts real
 * services from are installed (tools/requirements.ts). Missing ones are installed
 * with apt-get when this process is root or has passwordless sudo; otherwise it stops at
 * once with one line naming the exact command. `TEST_DEPS_INSTALL=never` reports without
 * installing (for machines where the suite must not change the system).
 *
 * Permissions: `--allow-run` (id, sudo, apt-get), `--allow-env`, `--allow-read` (PATH lookup).
 *
 * @module
 */
import { installCommand, missingPackages, which } from "./requirements.ts";

/** How this process may install packages. */
type Privilege = "root" | "sudo" | "none";

/** Runs a command quietly; its exit code, or -1 when it cannot start. */
async function quiet(command: string, args: string[], env: Record<string, string> = {}) {
  try {
    const out = await new Deno.Command(command, {
      args,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
    return { code: out.code, text };
  } catch (error) {
    return { code: -1, text: (error as Error).message };
  }
}

/** Root, passwordless sudo, or neither (`TEST_DEPS_INSTALL=never` forces neither). */
async function privilege(path: string): Promise<Privilege> {
  if (Deno.env.get("TEST_DEPS_INSTALL") === "never") return "none";
  const id = which("id", path);
  if (id !== undefined) {
    const out = await new Deno.Command(id, { args: ["-u"], stdout: "piped", stderr: "null" })
      .output().catch(() => undefined);
    if (out && new TextDecoder().decode(out.stdout).trim() === "0") return "root";
  }
  const sudo = which("sudo", path);
  if (sudo !== undefined && (await quiet(sudo, ["-n", "true"])).code === 0) return "sudo";
  return "none";
}

/** Installs `packages` with apt-get; returns an error line, or undefined on success. */
async function install(
  packages: string[],
  how: Privilege,
  path: string,
): Promise<string | undefined> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args: string[]) =>
    how === "root"
      ? quiet(which("apt-get", path) ?? "apt-get", args, env)
      : quiet(which("sudo", path) ?? "sudo", [
        "-n",
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        ...args,
      ]);
  console.error(`test deps: installing ${packages.join(" ")} with apt-get`);
  const update = await apt(["update", "-qq"]);
  if (update.code !== 0) return `apt-get update failed (${update.text})`;
  const installed = await apt(["install", "-y", "-qq", "--no-install-recommends", ...packages]);
  if (installed.code !== 0) return `apt-get install failed (${installed.text})`;
  return undefined;
}

/** Checks, installs if it may, and exits 0 when everything is there, 1 otherwise. */
async function main(): Promise<number> {
  const path = Deno.env.get("PATH") ?? "";
  const missing = missingPackages(path);
  if (missing.length === 0) return 0;
  const how = await privilege(path);
  if (how === "none") {
    console.error(
      `test deps: missing ${missing.join(", ")}; install them with: ${
        installCommand(missing, false)
      }`,
    );
    return 1;
  }
  const failure = await install(missing, how, path);
  const still = missingPackages(path);
  if (failure !== undefined || still.length > 0) {
    console.error(
      `test deps: ${failure ?? `still missing ${still.join(", ")}`}; run: ${
        installCommand(missing, how === "root")
      }`,
    );
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
