/**
 * The client's transports: each sends one encoded request message and resolves to the encoded
 * response message, or throws an {@linkcode RpcError}. gRPC over h2c and Triple/Connect unary
 * over h2c use lib/h2 (one connection per endpoint); Triple/Connect unary over HTTP/1.1 uses
 * `fetch` with a pooled client. A failure before any response is a {@linkcode ConnectionFailure},
 * which the client may diagnose (see `_transport_probe.ts`).
 *
 * @module
 */
import { type Endpoint, endpointKey } from "../endpoint.ts";
import { H2Client, H2RequestError, type H2Response } from "../h2/mod.ts";
import { BIZ_ERROR, codeOfGrpcFailure, errorFromBody, RpcError } from "./_errors.ts";
import { gunzip, isGzip, maybeGzip } from "./_compression.ts";
import { requestContentType, type Serialization } from "./_content_type.ts";
import { encodeEnvelope, onlyEnvelope, openEnvelope } from "./_envelope.ts";
import { formatGrpcTimeout, MS_TIMEOUT_HEADERS } from "./_timeout.ts";
import { ConnectionFailure } from "./_transport_probe.ts";
import { concat } from "../bytes.ts";
import { errorText } from "../error_text.ts";

/** Largest error body read. */
const MAX_ERROR_BODY = 64 * 1024;

/** The value of `tri-protocol-version` we send, as dubbo-js does. */
export const TRI_PROTOCOL_VERSION = "1.0.0";

/** One call as both transports send it. */
export interface Outgoing {
  path: string;
  /** The encoded request message. */
  message: Uint8Array;
}

/** What both transports need to know. */
export interface Wire {
  serialization: Serialization;
  /** `tri-service-group`/`-version` headers, when set. */
  routing: Record<string, string>;
  timeoutMs: number;
  compress: boolean;
  maxBytes: number;
}

/** A transport: sends one encoded request, resolves to the encoded response message. */
export interface Transport {
  send(endpoint: Endpoint, call: Outgoing): Promise<Uint8Array>;
  close(): void;
}

function decodeGrpcMessage(value: string | undefined): string {
  if (value === undefined) return "";
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** gRPC over h2c: lib/h2's client, one connection per endpoint for all calls. */
export function grpcTransport(wire: Wire): Transport {
  const client = new H2Client();
  const contentType = requestContentType("grpc", wire.serialization);
  return {
    async send(endpoint, call) {
      const { bytes, gzipped } = maybeGzip(call.message, wire.compress);
      const headers: Record<string, string> = {
        "content-type": contentType,
        "te": "trailers",
        "grpc-timeout": formatGrpcTimeout(wire.timeoutMs),
        "grpc-accept-encoding": "gzip",
        ...wire.routing,
      };
      if (gzipped) headers["grpc-encoding"] = "gzip";
      let response;
      try {
        response = await client.request(endpoint, {
          method: "POST",
          path: call.path,
          headers,
          body: encodeEnvelope({ compressed: gzipped, message: bytes }),
          timeoutMs: wire.timeoutMs,
          maxResponseBytes: wire.maxBytes + 5,
        });
      } catch (error) {
        throw transportError(error, endpoint, wire);
      }
      return grpcMessage(response, wire.maxBytes);
    },
    close: () => client.close(),
  };
}

/**
 * The RpcError of a failed h2c request; a failure before any response (no HTTP/2 connection,
 * it broke, or the server answered in HTTP/1.1) is a {@linkcode ConnectionFailure}, which
 * the client may diagnose.
 */
function transportError(error: unknown, endpoint: Endpoint, wire: Wire): RpcError {
  if (!(error instanceof H2RequestError)) return new ConnectionFailure(errorText(error));
  switch (error.kind) {
    case "timeout":
      return new RpcError(
        "deadline_exceeded",
        `call to ${endpointKey(endpoint)} exceeded its ${wire.timeoutMs}ms deadline`,
      );
    case "too-large":
      return new RpcError("resource_exhausted", `response larger than ${wire.maxBytes} bytes`);
    case "reset": // the stream, not the connection
      return new RpcError("unavailable", error.message, { cause: error });
    default:
      return new ConnectionFailure(error.message, { cause: error });
  }
}

/** The message of a finished gRPC response, or throws its RpcError. */
function grpcMessage(response: H2Response, maxBytes: number): Uint8Array {
  const { status: httpStatus, headers, trailers } = response;
  const headerStatus = headers.get("grpc-status");
  if (httpStatus !== 200) {
    const code = codeOfGrpcFailure(httpStatus, headerStatus);
    const message = decodeGrpcMessage(headers.get("grpc-message")) || `HTTP ${httpStatus}`;
    throw new RpcError(code, message);
  }
  const status = trailers.get("grpc-status") ?? headerStatus;
  const grpcMessage = trailers.get("grpc-message") ?? headers.get("grpc-message");
  if (status === undefined) throw new RpcError("internal", "response without grpc-status");
  if (status !== "0") {
    const business = status === String(BIZ_ERROR);
    throw new RpcError(codeOfGrpcFailure(200, status), decodeGrpcMessage(grpcMessage), {
      business,
    });
  }
  const envelope = onlyEnvelope(
    response.body,
    "response",
    "internal",
    "response without a gRPC message",
  );
  return openEnvelope(envelope, isGzip(headers.get("grpc-encoding")), maxBytes);
}

/**
 * Reads a response body (fetch has already gunzipped it, as a stream) up to `limit`
 * bytes; past it the read stops, so a compressed bomb costs at most `limit`.
 */
async function readBounded(response: Response, limit: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new RpcError("resource_exhausted", `response larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

async function readError(response: Response): Promise<RpcError> {
  let text = "";
  try {
    text = new TextDecoder().decode(await readBounded(response, MAX_ERROR_BODY));
  } catch {
    // unreadable or huge error body: the status decides
  }
  return errorFromBody(response.status, text);
}

/** The request fields of every Triple/Connect unary call. */
function tripleHeaders(wire: Wire): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": requestContentType("connect", wire.serialization),
    "tri-protocol-version": TRI_PROTOCOL_VERSION,
    "accept-encoding": "gzip",
    ...wire.routing,
  };
  for (const name of MS_TIMEOUT_HEADERS) headers[name] = String(wire.timeoutMs);
  return headers;
}

/** Triple/Connect unary: over HTTP/1.1 with `fetch` and a pooled client, over h2c with lib/h2. */
export function tripleTransport(wire: Wire, http: "1.1" | "2"): Transport {
  if (http === "2") return tripleH2Transport(wire);
  const client = Deno.createHttpClient({ http1: true, http2: false });
  const headers = tripleHeaders(wire);

  async function send(endpoint: Endpoint, call: Outgoing): Promise<Uint8Array> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), wire.timeoutMs);
    const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
    try {
      const { bytes: body, gzipped } = maybeGzip(call.message, wire.compress);
      const response = await fetch(`http://${host}:${endpoint.port}${call.path}`, {
        method: "POST",
        headers: gzipped ? { ...headers, "content-encoding": "gzip" } : headers,
        body: body as Uint8Array<ArrayBuffer>,
        client,
        signal: controller.signal,
      });
      if (response.status !== 200) throw await readError(response);
      return await readBounded(response, wire.maxBytes);
    } catch (error) {
      if (error instanceof RpcError) throw error;
      if (controller.signal.aborted) {
        throw new RpcError(
          "deadline_exceeded",
          `call to ${endpointKey(endpoint)} exceeded its ${wire.timeoutMs}ms deadline`,
        );
      }
      throw new ConnectionFailure(`${endpointKey(endpoint)}: ${errorText(error)}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  return { send, close: () => client.close() };
}

/** Room for gzip's framing over an incompressible message. */
const GZIP_SLACK = 1024;

/** Triple/Connect unary over h2c: lib/h2's client, gzip answers unpacked within the limit. */
function tripleH2Transport(wire: Wire): Transport {
  const client = new H2Client();
  const headers = tripleHeaders(wire);
  async function send(endpoint: Endpoint, call: Outgoing): Promise<Uint8Array> {
    const { bytes: body, gzipped } = maybeGzip(call.message, wire.compress);
    let response;
    try {
      response = await client.request(endpoint, {
        method: "POST",
        path: call.path,
        headers: gzipped ? { ...headers, "content-encoding": "gzip" } : headers,
        body,
        timeoutMs: wire.timeoutMs,
        maxResponseBytes: wire.maxBytes + GZIP_SLACK,
      });
    } catch (error) {
      throw transportError(error, endpoint, wire);
    }
    const encoding = response.headers.get("content-encoding");
    if (encoding !== undefined && !isGzip(encoding) && encoding.trim() !== "identity") {
      throw new RpcError("internal", "response with an unsupported content-encoding");
    }
    if (response.status !== 200) {
      let text = "";
      try {
        const raw = isGzip(encoding) ? gunzip(response.body, MAX_ERROR_BODY) : response.body;
        text = new TextDecoder().decode(raw.subarray(0, MAX_ERROR_BODY));
      } catch {
        // unreadable error body: the status decides
      }
      throw errorFromBody(response.status, text);
    }
    if (isGzip(encoding)) return gunzip(response.body, wire.maxBytes);
    if (response.body.length > wire.maxBytes) {
      throw new RpcError("resource_exhausted", `response larger than ${wire.maxBytes} bytes`);
    }
    return response.body;
  }
  return { send, close: () => client.close() };
}
