import { expect } from "chai";
import { PassThrough } from "node:stream";
import { watchFrameSizes } from "../../../runtime/local/emulators/frame-limit";

/** A masked client frame (RFC 6455 §5.2) with the given opcode and payload length. */
function clientFrame(opcode: number, length: number, fin = true): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const header =
    length < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length])
      : length < 65536
        ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 127]), (() => {
            const b = Buffer.alloc(8);
            b.writeBigUInt64BE(BigInt(length));
            return b;
          })()]);
  return Buffer.concat([header, mask, Buffer.alloc(length, 0x61)]);
}

function feed(stream: Buffer, chunkSize: number, limit: number): number[] {
  const socket = new PassThrough();
  const tripped: number[] = [];
  watchFrameSizes(socket, limit, (size) => tripped.push(size));
  for (let i = 0; i < stream.length; i += chunkSize) socket.emit("data", stream.subarray(i, i + chunkSize));
  return tripped;
}

describe("local/frame-limit: per-frame size watch on the raw socket", () => {
  const ok = Buffer.concat([clientFrame(1, 10), clientFrame(9, 4), clientFrame(1, 300, false), clientFrame(0, 1000)]);
  const big = Buffer.concat([clientFrame(1, 20), clientFrame(2, 70_000)]);

  it("passes frames within the limit whatever the TCP chunking", () => {
    for (const size of [1, 2, 3, 7, 13, 64, 4096]) expect(feed(ok, size, 1024), `chunks of ${size}`).to.deep.equal([]);
  });

  it("reports the first frame over the limit, with 16- and 64-bit lengths, whatever the chunking", () => {
    for (const size of [1, 5, 11, 1500]) expect(feed(big, size, 32 * 1024), `chunks of ${size}`).to.deep.equal([70_000]);
    expect(feed(clientFrame(1, 2000), 100, 1024)).to.deep.equal([2000]);
  });
});
