/**
 * Decodes the AWS event stream encoding (`application/vnd.amazon.eventstream`) that Bedrock's streaming responses
 * use: each message is a prelude (total length, headers length, both uint32 big-endian, then the prelude's CRC32),
 * the headers, the payload, and the whole message's CRC32 (AWS SDK developer guide, "Event stream encoding"; the
 * SDK's @smithy/eventstream-codec). Synchronous and one layer deep: a worker decodes ~80 of these per answer-second.
 */
import { crc32 } from "node:zlib";
import { ModelError } from "../chat/ports";

export interface EventMessage {
  /** The string-valued headers (`:message-type`, `:event-type`, `:exception-type`, …); others are skipped. */
  headers: Record<string, string>;
  payload: Buffer;
}

const PRELUDE_BYTES = 8;
const CRC_BYTES = 4;
const MIN_MESSAGE_BYTES = PRELUDE_BYTES + 2 * CRC_BYTES;
/** Header value types (event stream encoding): the byte length of each fixed-size value. */
const FIXED_VALUE_BYTES: Record<number, number> = { 0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16 };
const BYTE_ARRAY = 6;
const STRING = 7;

export class EventStreamDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /** The complete messages that `chunk` finishes (a message may span chunks, a chunk may hold several). */
  push(chunk: Uint8Array): EventMessage[] {
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let buffer = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    const messages: EventMessage[] = [];
    while (buffer.length >= MIN_MESSAGE_BYTES) {
      const total = buffer.readUInt32BE(0);
      if (total < MIN_MESSAGE_BYTES) throw malformed("an event message shorter than its prelude");
      if (buffer.length < total) break;
      messages.push(decodeMessage(buffer.subarray(0, total)));
      buffer = buffer.subarray(total);
    }
    this.pending = buffer;
    return messages;
  }

  /** The stream ended: a message cut in the middle is a cut stream. */
  end(): void {
    if (this.pending.length > 0) throw new ModelError("the model stream ended inside an event message", "IncompleteStream", true);
  }
}

function decodeMessage(message: Buffer): EventMessage {
  const headersLength = message.readUInt32BE(4);
  if (message.readUInt32BE(PRELUDE_BYTES) !== crc32(message.subarray(0, PRELUDE_BYTES))) throw malformed("an event message's prelude checksum does not match");
  const end = message.length - CRC_BYTES;
  if (message.readUInt32BE(end) !== crc32(message.subarray(0, end))) throw malformed("an event message's checksum does not match");
  const headersStart = PRELUDE_BYTES + CRC_BYTES;
  const payloadStart = headersStart + headersLength;
  if (payloadStart > end) throw malformed("an event message's headers overrun it");
  return { headers: decodeHeaders(message.subarray(headersStart, payloadStart)), payload: message.subarray(payloadStart, end) };
}

function decodeHeaders(bytes: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let at = 0;
  while (at < bytes.length) {
    const nameLength = bytes.readUInt8(at);
    const name = bytes.toString("utf8", at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const type = bytes.readUInt8(at++);
    if (type === STRING || type === BYTE_ARRAY) {
      const length = bytes.readUInt16BE(at);
      if (type === STRING) headers[name] = bytes.toString("utf8", at + 2, at + 2 + length);
      at += 2 + length;
    } else if (type in FIXED_VALUE_BYTES) {
      at += FIXED_VALUE_BYTES[type];
    } else {
      throw malformed(`an event header of unknown type ${type}`);
    }
  }
  if (at !== bytes.length) throw malformed("an event message's headers overrun them");
  return headers;
}

function malformed(what: string): ModelError {
  return new ModelError(`model stream: ${what}`, "MalformedChunk", false);
}
