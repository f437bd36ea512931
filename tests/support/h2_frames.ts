/**
 * HTTP/2 frames as bytes for raw-client tests (tests/support/h2_wire.ts): any frame,
 * well-formed or not, and batches of them to write at line rate; plus how a test reads a
 * field list or names a GOAWAY.
 *
 * @module
 */
import { errorCodeName, FRAME_HEADER_BYTES, FrameType } from "../../lib/h2/frame.ts";

const EMPTY = new Uint8Array(0);

/** A GOAWAY as read: its last-stream-id and error code. */
export interface Goaway {
  lastStreamId: number;
  code: number;
}

/** Encodes one frame. */
export function encodeFrame(
  type: number,
  flags: number,
  id: number,
  payload: Uint8Array = EMPTY,
): Uint8Array {
  const bytes = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  bytes.set([payload.length >>> 16, (payload.length >>> 8) & 0xff, payload.length & 0xff]);
  bytes[3] = type;
  bytes[4] = flags;
  new DataView(bytes.buffer).setUint32(5, id);
  bytes.set(payload, FRAME_HEADER_BYTES);
  return bytes;
}

/** A 4-byte payload (RST_STREAM code, WINDOW_UPDATE increment). */
export function word(value: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, value);
  return payload;
}

/** `parts` joined into one buffer (many frames to write at line rate). */
export function concat(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** A SETTINGS frame from `[id, value, …]`. */
export function settingsFrame(pairs: number[]): Uint8Array {
  const payload = new Uint8Array(pairs.length * 3);
  const view = new DataView(payload.buffer);
  for (let i = 0; i < pairs.length; i += 2) {
    view.setUint16(i * 3, pairs[i]);
    view.setUint32(i * 3 + 2, pairs[i + 1]);
  }
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

/** The value of `name` in a field list. */
export function field(fields: string[] | null | undefined, name: string): string | undefined {
  for (let i = 0; fields && i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** "GOAWAY ENHANCE_YOUR_CALM (last stream 7)" and the like, for messages. */
export function describeGoaways(goaways: Goaway[]): string {
  const each = goaways.map((g) =>
    `GOAWAY ${errorCodeName(g.code)} (last stream ${g.lastStreamId})`
  );
  return each.join(", ") || "no GOAWAY";
}
