// Stands in for `zlib` inside dist/vendor-ws.js. ws requires zlib when it loads, for
// permessage-deflate, which the carrier turns off (perMessageDeflate: false): the real
// module is loaded on the first use of any of its properties, so a carrier never loads
// it (~0.7 MB resident per helper; docs/BENCHMARKS.md, fifth round).
let zlib;
module.exports = new Proxy(
  {},
  {
    get: (_, key) => (zlib ??= require('node:zlib'))[key],
    has: (_, key) => key in (zlib ??= require('node:zlib')),
  },
);
