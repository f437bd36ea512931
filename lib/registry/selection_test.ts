import assert from "node:assert/strict";
import { ProviderDirectory } from "./directory.ts";
import { Selection } from "./selection.ts";

const A = { host: "10.0.0.1", port: 1 };
const B = { host: "10.0.0.2", port: 2 };

function setup(mode: "interface" | "instance" | "auto") {
  const directory = new ProviderDirectory();
  const logs: string[] = [];
  return {
    directory,
    logs,
    selection: new Selection(directory, mode, (l) => logs.push(l), "greet.GreetService"),
  };
}

Deno.test("selection: auto prefers application-level whenever it has providers", () => {
  const { directory, logs, selection } = setup("auto");
  selection.setInterface([A]);
  assert.deepEqual(directory.list(), [A]);
  selection.setApp([B]);
  assert.deepEqual(directory.list(), [B]);
  selection.setApp([]);
  assert.deepEqual(directory.list(), [A], "back to interface-level when none is left");
  assert.deepEqual(logs.map((l) => l.match(/\((\S+)\)/)?.[1]), [
    "interface-level",
    "application-level",
    "interface-level",
  ]);
});

Deno.test("selection: a layout switch to the same endpoints is logged once", () => {
  const { logs, selection } = setup("auto");
  selection.setInterface([A]);
  selection.setApp([A]);
  selection.setApp([A]);
  assert.equal(logs.length, 2);
  assert.match(logs[1], /application-level\): 1 \(10\.0\.0\.1:1\)/);
});

Deno.test("selection: interface and instance modes ignore the other layout", () => {
  const onlyInterface = setup("interface");
  onlyInterface.selection.setApp([B]);
  assert.deepEqual(onlyInterface.directory.list(), []);
  onlyInterface.selection.setInterface([A]);
  assert.deepEqual(onlyInterface.directory.list(), [A]);
  const onlyInstance = setup("instance");
  onlyInstance.selection.setInterface([A]);
  assert.deepEqual(onlyInstance.directory.list(), []);
  onlyInstance.selection.setApp([B]);
  assert.deepEqual(onlyInstance.directory.list(), [B]);
});
