// The sandbox edge's websocket masking: the same word-wise XOR as the helper's
// websocket client (src/access/ws-mask.ts, used by src/access/websocket.ts). The sandbox runs from tsc output, where ws would fall back to its
// byte-at-a-time JavaScript loop to unmask every client frame; the edge stands in
// the measured path where Cloudflare's edge would be (docs/BENCHMARKS.md), so it
// should not spend more CPU per byte than it has to.
//
// Imported for its side effect before `ws` (edge.ts): ws's receiver and sender
// take `mask` / `unmask` from lib/buffer-util.js when they load. That file is not
// in ws's package exports, so it is reached by its path beside ws's entry point,
// which is the same module instance ws itself loads.
import { dirname, join } from 'node:path';
import { mask, unmask } from '../../src/access/ws-mask';

interface BufferUtil {
  mask(source: Buffer, key: Buffer, output: Buffer, offset: number, length: number): void;
  unmask(buffer: Buffer, key: Buffer): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const util = require(join(dirname(require.resolve('ws')), 'lib', 'buffer-util.js')) as BufferUtil;
const jsMask = util.mask;
const jsUnmask = util.unmask;
// The thresholds ws uses with `bufferutil`: below them the plain loop is cheaper than a call.
util.mask = (source, key, output, offset, length) =>
  length < 48 ? jsMask(source, key, output, offset, length) : mask(source, key, output, offset, length);
util.unmask = (buffer, key) => (buffer.length < 32 ? jsUnmask(buffer, key) : unmask(buffer, key));
