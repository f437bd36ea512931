/**
 * The Grafana dashboard type-checks against `@grafana/schema` of the Grafana version
 * compose.yaml runs (12.1.1): the JSON is written as an object literal typed `Dashboard`
 * (enums as their JSON strings) and given to `deno check`, so a misspelt field or an unknown enum value fails here,
 * not in a demo.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;
const DASHBOARD = `${ROOT}grafana/dashboards/dubbo-observability.json`;

/**
 * The schema's TypeScript enums (`FieldColorModeId`, `ThresholdsMode`, ...) as the strings
 * they stand for in JSON; everything else, optional fields and excess-field checks
 * included, is the schema as published.
 */
const AS_JSON = `type AsJson<T> = T extends string ? \`\${T}\`
  : T extends readonly (infer U)[] ? AsJson<U>[]
  : T extends object ? { [K in keyof T]: AsJson<T[K]> }
  : T;`;

/** Type-checks `dashboard` as a Grafana `Dashboard`; returns the checker's errors. */
async function typeCheck(dashboard: unknown): Promise<{ ok: boolean; errors: string }> {
  const dir = await Deno.makeTempDir({ prefix: "dashboard-schema-" });
  try {
    const file = `${dir}/dashboard.ts`;
    await Deno.writeTextFile(
      file,
      `import type { Dashboard } from "@grafana/schema";\n${AS_JSON}\n` +
        `export const dashboard: AsJson<Dashboard> = ${JSON.stringify(dashboard, null, 2)};\n`,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", `${ROOT}tests/deno.json`, file],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { ok: output.success, errors: new TextDecoder().decode(output.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("dashboard schema: the dashboard is a valid @grafana/schema Dashboard", async () => {
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
  const { ok, errors } = await typeCheck(dashboard);
  assert.ok(ok, errors);
});

Deno.test("dashboard schema: a misspelt field or a bad enum value is rejected", async () => {
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
  const misspelt = { ...dashboard, refersh: dashboard.refresh };
  assert.equal((await typeCheck(misspelt)).ok, false, "unknown top-level field");
  const panel = dashboard.panels.find((p: { fieldConfig?: unknown }) => p.fieldConfig);
  panel.fieldConfig.defaults.color = { mode: "rainbow" };
  const badEnum = await typeCheck(dashboard);
  assert.equal(badEnum.ok, false);
  assert.match(badEnum.errors, /FieldColorModeId|rainbow/);
});
