// ws-mask.ts (the bundles' stand-in for bufferutil) must give exactly ws's own
// byte-by-byte result for every length, source offset and output offset.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { mask, unmask } from '../../../src/access/ws-mask.js';

function reference(source: Uint8Array, key: Uint8Array, output: Uint8Array, offset: number, length: number): void {
  for (let i = 0; i < length; i++) output[offset + i] = source[i]! ^ key[i & 3]!;
}

test('mask and unmask equal the byte-by-byte XOR at every alignment', () => {
  for (const length of [0, 1, 2, 3, 4, 5, 7, 8, 31, 125, 126, 1000, 65535, 65536, 70001]) {
    for (let srcShift = 0; srcShift < 4; srcShift++) {
      for (const offset of [0, 2, 6, 8, 14]) {
        const key = randomBytes(4);
        const src = randomBytes(length + srcShift).subarray(srcShift);
        const want = Buffer.alloc(length + offset);
        reference(src, key, want, offset, length);
        const got = Buffer.alloc(length + offset);
        mask(src, key, got, offset, length);
        assert.deepEqual(got.subarray(offset), want.subarray(offset), `mask length ${length} shift ${srcShift} offset ${offset}`);

        const inPlace = Buffer.from(src);
        unmask(inPlace, key);
        assert.deepEqual(inPlace, want.subarray(offset), `unmask length ${length} shift ${srcShift}`);
        unmask(inPlace, key);
        assert.deepEqual(inPlace, Buffer.from(src), 'unmask twice is the identity');
      }
    }
  }
});

test('mask in place (output is the source, offset 0), as ws does for writable buffers', () => {
  const key = randomBytes(4);
  const src = randomBytes(4099).subarray(3);
  const copy = Buffer.from(src);
  const want = Buffer.alloc(copy.length);
  reference(copy, key, want, 0, copy.length);
  mask(src, key, src, 0, src.length);
  assert.deepEqual(Buffer.from(src), want);
});
