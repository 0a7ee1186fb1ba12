// WebSocket masking for the carrier's client (websocket.ts encodeFrame). A
// byte-at-a-time JavaScript loop (what ws does without its optional native
// `bufferutil`) was the helper's largest piece of JavaScript in the CPU profile of a
// 256 MiB upload (docs/BENCHMARKS.md, fourth round). This one XORs 32-bit words: the
// same result (RFC 6455 §5.3), about 4× fewer steps.
// mask(source, key, output, offset, length) writes the masked copy; unmask(buffer, key) works in place.

/** XOR `length` bytes of `buf` from `start` with the 4-byte key `key`, whose byte 0 applies at `start`. */
function xorInPlace(buf: Uint8Array, start: number, length: number, key: Uint8Array): void {
  let i = 0;
  // Bytes until the position is 4-byte aligned in the underlying ArrayBuffer.
  const misaligned = (buf.byteOffset + start) & 3;
  const head = Math.min(length, misaligned === 0 ? 0 : 4 - misaligned);
  for (; i < head; i++) buf[start + i]! ^= key[i & 3]!;
  const words = (length - i) >>> 2;
  if (words > 0) {
    // The key as a little/big-endian-agnostic word, rotated to start at byte i.
    const k = new Uint8Array(4);
    for (let j = 0; j < 4; j++) k[j] = key[(i + j) & 3]!;
    const key32 = new Uint32Array(k.buffer)[0]!;
    const view = new Uint32Array(buf.buffer, buf.byteOffset + start + i, words);
    for (let w = 0; w < words; w++) view[w]! ^= key32;
    i += words * 4;
  }
  for (; i < length; i++) buf[start + i]! ^= key[i & 3]!;
}

export function mask(source: Uint8Array, key: Uint8Array, output: Uint8Array, offset: number, length: number): void {
  if (source !== output || offset !== 0) output.set(source.subarray(0, length), offset);
  xorInPlace(output, offset, length, key);
}

/** Unmask in place (the sandbox edge's `ws` server reads client frames with it: test/sandbox/ws-mask.ts). */
export function unmask(buffer: Uint8Array, key: Uint8Array): void {
  xorInPlace(buffer, 0, buffer.length, key);
}
