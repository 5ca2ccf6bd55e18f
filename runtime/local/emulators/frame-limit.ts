/**
 * Watches the frame headers a client sends on a raw socket, so the gateway can enforce API Gateway's per-frame
 * limit (32 KB) separately from its per-message limit (128 KB, which `ws`'s maxPayload enforces). `ws` itself
 * only knows message sizes. Client frames are masked; only the header is parsed, payloads are skipped.
 * RFC 6455 §5.2 (base framing protocol).
 */
import type { Duplex } from "node:stream";

export function watchFrameSizes(socket: Duplex, limitBytes: number, onTooLarge: (frameBytes: number) => void): void {
  let header = Buffer.alloc(0);
  let skip = 0;
  let tripped = false;
  socket.on("data", (chunk: Buffer) => {
    let offset = 0;
    while (!tripped && offset < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - offset);
        skip -= n;
        offset += n;
        continue;
      }
      header = Buffer.concat([header, chunk.subarray(offset, offset + 14)]);
      if (header.length < 2) return;
      const opcode = header[0] & 0x0f;
      const len7 = header[1] & 0x7f;
      const masked = (header[1] & 0x80) !== 0;
      const headerLength = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (header.length < headerLength) {
        offset = chunk.length;
        continue;
      }
      const payloadLength =
        len7 === 126 ? header.readUInt16BE(2) : len7 === 127 ? Number(header.readBigUInt64BE(2)) : len7;
      // Bytes of this chunk consumed by the header: what we appended minus what lies beyond the header.
      const appended = Math.min(14, chunk.length - offset);
      const beyond = header.length - headerLength;
      offset += appended - beyond;
      header = Buffer.alloc(0);
      skip = payloadLength;
      // Control frames (close, ping, pong) are capped at 125 bytes by the protocol itself.
      if (opcode < 0x08 && payloadLength > limitBytes) {
        tripped = true;
        onTooLarge(payloadLength);
      }
    }
  });
}
