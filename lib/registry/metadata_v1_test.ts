import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { decodeReply, encodeRequest, loadHessian, METADATA_SERVICE_V1 } from "./metadata_v1.ts";

/** A reply frame as a Dubbo provider writes it: header, hessian flag, value. */
async function reply(status: number, parts: unknown[]): Promise<Buffer> {
  const { EncoderV2 } = await loadHessian();
  const body = new EncoderV2();
  for (const part of parts) body.write(part);
  const payload = body.get();
  const header = Buffer.alloc(16);
  header[0] = 0xda;
  header[1] = 0xbb;
  header[2] = 2;
  header[3] = status;
  header.writeUInt32BE(payload.length, 12);
  return Buffer.concat([header, payload]);
}

Deno.test("metadata v1: request frame has the Dubbo header and the call in hessian2", async () => {
  const frame = await encodeRequest("dubbo.io", "rev1", 7n);
  assert.equal(frame[0], 0xda);
  assert.equal(frame[1], 0xbb);
  assert.equal(frame[2], 0xc2, "request, two-way, hessian2");
  assert.equal(frame.readBigInt64BE(4), 7n);
  assert.equal(frame.readUInt32BE(12), frame.length - 16);
  const { DecoderV2 } = await loadHessian();
  const decoder = new DecoderV2(frame.subarray(16));
  const parts = [1, 2, 3, 4, 5, 6].map(() => decoder.read());
  assert.deepEqual(parts, [
    "2.0.2",
    METADATA_SERVICE_V1,
    "1.0.0",
    "getMetadataInfo",
    "Ljava/lang/String;",
    "rev1",
  ]);
  const attachments = decoder.read() as Record<string, string>;
  assert.equal(attachments.group, "dubbo.io");
  assert.equal(attachments.version, "1.0.0");
});

Deno.test("metadata v1: a MetadataInfo reply decodes; errors become clear rejections", async () => {
  const service = {
    $class: "org.apache.dubbo.metadata.MetadataInfo$ServiceInfo",
    $: {
      name: "greet.GreetService",
      group: "",
      version: "",
      protocol: "tri",
      port: 20000,
      path: "greet.GreetService",
      params: { $class: "java.util.HashMap", $: { serialization: "protobuf" } },
    },
  };
  const info = {
    $class: "org.apache.dubbo.metadata.MetadataInfo",
    $: {
      app: "dubbo.io",
      revision: "r1",
      tag: "",
      services: { $class: "java.util.HashMap", $: { "greet.GreetService:tri": service } },
    },
  };
  const decoded = await decodeReply(
    await reply(20, [4, info, { $class: "java.util.HashMap", $: {} }]),
  );
  assert.equal(decoded.app, "dubbo.io");
  assert.equal(decoded.revision, "r1");
  assert.equal(decoded.services["greet.GreetService:tri"].port, 20000);
  assert.equal(decoded.services["greet.GreetService:tri"].params.serialization, "protobuf");
  await assert.rejects(decodeReply(await reply(20, [2])), /null metadata/);
  await assert.rejects(decodeReply(await reply(90, ["boom"])), /Dubbo status 90: boom/);
  await assert.rejects(decodeReply(Buffer.from("HTTP/1.1 400\r\n\r\n")), /not a Dubbo reply/);
});
