/**
 * The Debian packages the suite starts real services from, how to tell each is present,
 * and the exact command that installs the missing ones. Used by `tools/test_deps.ts`
 * (first step of `deno task test`) and by `services.ts`, so a missing binary fails its
 * test at once with that command instead of after a readiness timeout.
 *
 * @module
 */

/** One package the suite needs. */
export interface Requirement {
  /** The Debian package. */
  readonly package: string;
  /** Commands that must be on PATH. */
  readonly commands: readonly string[];
  /** Files that must exist. */
  readonly files: readonly string[];
}

/** What the suite needs, in install order. */
export const REQUIREMENTS: readonly Requirement[] = [
  { package: "zookeeper", commands: ["java"], files: ["/usr/share/java/zookeeper.jar"] },
  { package: "prometheus", commands: ["prometheus"], files: [] },
  { package: "prometheus-pushgateway", commands: ["prometheus-pushgateway"], files: [] },
  { package: "docker-compose", commands: ["docker-compose"], files: [] },
  { package: "nghttp2-client", commands: ["h2load"], files: [] },
];

/** The full path of `command` in the directories of `path` (`PATH` syntax), if any. */
export function which(command: string, path: string): string | undefined {
  for (const dir of path.split(":")) {
    if (dir === "") continue;
    const candidate = `${dir}/${command}`;
    try {
      const stat = Deno.statSync(candidate);
      if (stat.isFile && ((stat.mode ?? 0o111) & 0o111) !== 0) return candidate;
    } catch { /* not there */ }
  }
  return undefined;
}

/** Whether `file` exists. */
function exists(file: string): boolean {
  try {
    Deno.statSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Whether one requirement is met under `path`. */
export function present(requirement: Requirement, path: string): boolean {
  return requirement.commands.every((c) => which(c, path) !== undefined) &&
    requirement.files.every(exists);
}

/** The packages of `requirements` missing under `path` (default: this process's PATH). */
export function missingPackages(
  path: string = Deno.env.get("PATH") ?? "",
  requirements: readonly Requirement[] = REQUIREMENTS,
): string[] {
  return requirements.filter((r) => !present(r, path)).map((r) => r.package);
}

/** The exact command that installs `packages` (as root; `sudo` otherwise). */
export function installCommand(packages: readonly string[], asRoot: boolean): string {
  const sudo = asRoot ? "" : "sudo ";
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${
    packages.join(" ")
  }`;
}

/**
 * Throws one line naming the install command when the package providing `command` (or
 * the package named `pkg`) is missing. For services.ts, before it starts anything.
 */
export function requirePackage(pkg: string): void {
  const requirement = REQUIREMENTS.find((r) => r.package === pkg);
  if (requirement === undefined || present(requirement, Deno.env.get("PATH") ?? "")) return;
  throw new Error(
    `${pkg} is not installed (needs ${
      [...requirement.commands, ...requirement.files].join(", ")
    }): run \`${installCommand([pkg], false)}\`, or \`deno task test\`, which installs it`,
  );
}
