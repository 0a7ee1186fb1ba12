// The carrier's own websocket client (src/access/websocket.ts): frames it writes
// (masking, the three length forms), the upgrade request and the checks of its answer,
// and the protocol against two servers on loopback: `ws`'s server (a real, independent
// implementation: fragmentation, large frames, ping during a transfer, close codes both
// ways) and a raw TCP server that writes what `ws` never would (masked server frames,
// RSV bits, bad close codes, a wrong Sec-WebSocket-Accept, a huge or split handshake).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { AccessError } from '../../../src/access/errors.js';
import {
  acceptFor,
  encodeFrame,
  isValidCloseCode,
  MAX_HANDSHAKE_BYTES,
  upgrade,
  upgradeRequestText,
  WebSocketClient,
  WebSocketProtocolError,
} from '../../../src/access/websocket.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Decode one client frame (tests' own reading of RFC 6455 §5.2). */
function decodeClientFrame(frame: Buffer): { fin: boolean; opcode: number; masked: boolean; key: Buffer; payload: Buffer; size: number } {
  const fin = (frame[0]! & 0x80) !== 0;
  const opcode = frame[0]! & 0x0f;
  const masked = (frame[1]! & 0x80) !== 0;
  let len = frame[1]! & 0x7f;
  let at = 2;
  if (len === 126) {
    len = frame.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    len = Number(frame.readBigUInt64BE(2));
    at = 10;
  }
  const key = frame.subarray(at, at + 4);
  const payload = Buffer.from(frame.subarray(at + 4, at + 4 + len));
  for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
  return { fin, opcode, masked, key: Buffer.from(key), payload, size: at + 4 + len };
}

/** An unmasked server frame. */
function serverFrame(opcode: number, payload: Buffer, opts: { fin?: boolean; rsv?: number; maskKey?: Buffer } = {}): Buffer {
  const n = payload.length;
  const head: number[] = [((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode];
  const maskBit = opts.maskKey ? 0x80 : 0;
  if (n < 126) head.push(maskBit | n);
  else if (n < 65536) head.push(maskBit | 126, n >> 8, n & 0xff);
  else {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    head.push(maskBit | 127, ...b);
  }
  const parts: Buffer[] = [Buffer.from(head)];
  if (opts.maskKey) {
    parts.push(opts.maskKey);
    const p = Buffer.from(payload);
    for (let i = 0; i < p.length; i++) p[i]! ^= opts.maskKey[i & 3]!;
    parts.push(p);
  } else parts.push(payload);
  return Buffer.concat(parts);
}

function closeBody(code: number, reason: Buffer | string = ''): Buffer {
  const r = typeof reason === 'string' ? Buffer.from(reason) : reason;
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

async function tcp(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
  return s;
}

describe('frames the client writes', () => {
  test('every frame is masked; the three length forms; the payload unmasks to what was sent', () => {
    for (const n of [0, 1, 125, 126, 65535, 65536, 3 * 1024 * 1024 + 5]) {
      const payload = randomBytes(n);
      const frame = encodeFrame(0x2, payload);
      const d = decodeClientFrame(frame);
      assert.equal(d.masked, true, `${n}: masked`);
      assert.equal(d.fin, true);
      assert.equal(d.opcode, 0x2);
      assert.equal(d.size, frame.length, `${n}: the header says the frame's length`);
      assert.equal(frame[1]! & 0x7f, n < 126 ? n : n < 65536 ? 126 : 127, `${n}: the shortest length form`);
      assert.ok(d.payload.equals(payload), `${n}: unmasks to the payload`);
    }
  });

  test('masking does not touch the caller’s buffer, and each frame has its own key', () => {
    const payload = Buffer.alloc(4096, 0x41);
    const keys = new Set<string>();
    for (let i = 0; i < 50; i++) keys.add(decodeClientFrame(encodeFrame(0x2, payload)).key.toString('hex'));
    assert.ok(
      payload.every((b) => b === 0x41),
      'the source is unchanged',
    );
    assert.ok(keys.size >= 49, `fresh keys (${keys.size} distinct of 50)`);
  });

  test('masking at every alignment (the word-wise XOR) matches the byte-wise rule', () => {
    const base = randomBytes(300);
    for (let off = 0; off < 8; off++) {
      const payload = base.subarray(off, off + 133 + off);
      const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
      const d = decodeClientFrame(encodeFrame(0x2, payload, true, key));
      assert.ok(d.payload.equals(payload), `offset ${off}`);
    }
  });

  test('close codes: what may go on the wire', () => {
    for (const ok of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999])
      assert.ok(isValidCloseCode(ok), String(ok));
    for (const bad of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) assert.ok(!isValidCloseCode(bad), String(bad));
  });
});

describe('the upgrade request', () => {
  test('method, Host, the websocket headers, then the caller’s; a caller’s Host wins, its websocket headers are dropped', () => {
    const text = upgradeRequestText(
      {
        path: '/a?b=1',
        host: 'ssh.example.com',
        headers: { 'User-Agent': 'access-ssh/1', 'Cf-Access-Token': 't', 'Sec-WebSocket-Extensions': 'permessage-deflate', Upgrade: 'h2c' },
      },
      'a2V5a2V5a2V5a2V5a2V5YQ==',
    );
    assert.equal(
      text,
      'GET /a?b=1 HTTP/1.1\r\nHost: ssh.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: a2V5a2V5a2V5a2V5a2V5YQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: access-ssh/1\r\nCf-Access-Token: t\r\n\r\n',
    );
    assert.match(upgradeRequestText({ path: '/', host: 'a', headers: { host: 'origin.internal' } }, 'k'), /\r\nHost: origin\.internal\r\n/);
  });

  test('a header that would break the request is refused before anything is sent', () => {
    for (const headers of [{ 'X-A': 'v\r\nCf-Access-Token: stolen' }, { 'X-A': 'v\n' }, { 'X A': 'v' }, { 'X-A': 'v\0' }]) {
      assert.throws(
        () => upgradeRequestText({ path: '/', host: 'h', headers }, 'k'),
        (err: unknown) => err instanceof AccessError && err.code === 'config',
      );
    }
  });

  test('Sec-WebSocket-Accept is RFC 6455’s example', () => {
    assert.equal(acceptFor('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});

describe('against ws’s server', () => {
  let wss: WebSocketServer;
  let port: number;
  let onConnection: (ws: WebSocket) => void = () => {};
  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    port = (wss.address() as AddressInfo).port;
    wss.on('connection', (ws) => onConnection(ws));
  });
  after(() => new Promise<void>((r) => wss.close(() => r())));

  async function open(): Promise<WebSocketClient> {
    const r = await upgrade(await tcp(port), { path: '/', host: `127.0.0.1:${port}`, headers: {} });
    assert.ok(r.ok);
    return r.ws;
  }

  /** Everything the client receives until the close, and the close. */
  function collect(ws: WebSocketClient): Promise<{ data: Buffer; pieces: number; code: number; reason: string }> {
    const parts: Buffer[] = [];
    return new Promise((resolve) => {
      ws.on('message', (d) => parts.push(Buffer.from(d)));
      ws.on('close', (code, reason) => resolve({ data: Buffer.concat(parts), pieces: parts.length, code, reason: reason.toString() }));
      ws.resume();
    });
  }

  test('a 20 MiB frame arrives intact, streamed in pieces (never held whole)', async () => {
    const big = randomBytes(20 * 1024 * 1024);
    onConnection = (ws) => ws.send(big, { binary: true }, () => ws.close(1000));
    const ws = await open();
    let largest = 0;
    ws.on('message', (d) => (largest = Math.max(largest, d.length)));
    const got = await collect(ws);
    assert.equal(got.data.length, big.length);
    assert.equal(sha(got.data), sha(big));
    assert.ok(got.pieces > 1 && largest < 4 * 1024 * 1024, `${got.pieces} pieces, the largest ${largest} bytes`);
    assert.equal(got.code, 1000);
  });

  test('a fragmented message with a ping between its fragments: bytes in order, the ping answered with its payload', async () => {
    const frags = [randomBytes(100), randomBytes(70_000), randomBytes(5), randomBytes(200_000)];
    let pong: Buffer | undefined;
    onConnection = (ws) => {
      ws.on('pong', (d) => {
        pong = d;
        ws.close(4001, 'done');
      });
      frags.forEach((f, i) => {
        ws.send(f, { binary: true, fin: i === frags.length - 1 });
        if (i === 1) ws.ping(Buffer.from('mid-message'));
      });
    };
    const got = await collect(await open());
    assert.equal(sha(got.data), sha(Buffer.concat(frags)));
    assert.equal(pong?.toString(), 'mid-message');
    assert.equal(got.code, 4001);
    assert.equal(got.reason, 'done');
  });

  test('what the client sends is unmasked by the server to the same bytes (one 5 MiB frame, then many small)', async () => {
    const one = randomBytes(5 * 1024 * 1024);
    const small = Array.from({ length: 300 }, (_, i) => randomBytes(i + 1));
    const received: Buffer[] = [];
    const done = new Promise<void>((resolve) => {
      onConnection = (ws) => {
        ws.on('message', (d: Buffer, isBinary) => {
          assert.equal(isBinary, true);
          received.push(d);
          if (received.length === 1 + small.length) resolve();
        });
      };
    });
    const ws = await open();
    ws.resume();
    ws.send(one);
    for (const s of small) ws.send(s);
    await done;
    assert.equal(sha(received[0]!), sha(one));
    small.forEach((s, i) => assert.ok(received[i + 1]!.equals(s), `small frame ${i}`));
    ws.close(1000);
  });

  test('server pings during an 8 MiB upload are answered; the upload is intact', async () => {
    const payload = randomBytes(8 * 1024 * 1024);
    let pongs = 0;
    let got = 0;
    const h = createHash('sha256');
    const done = new Promise<void>((resolve) => {
      onConnection = (ws) => {
        ws.on('pong', () => pongs++);
        ws.on('message', (d: Buffer) => {
          h.update(d);
          got += d.length;
          ws.ping();
          if (got === payload.length) resolve();
        });
      };
    });
    const ws = await open();
    ws.resume();
    for (let off = 0; off < payload.length; off += 64 * 1024) ws.send(payload.subarray(off, off + 64 * 1024));
    await done;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.digest('hex'), sha(payload));
    assert.ok(pongs >= 100, `${pongs} pongs for 128 pings`);
    ws.close(1000);
  });

  test('closing: our close(1000) is seen by the server; its close code comes back to us', async () => {
    const serverClose = new Promise<number>((resolve) => {
      onConnection = (ws) => ws.on('close', (code) => resolve(code));
    });
    const ws = await open();
    const closed = collect(ws);
    ws.close(1000);
    assert.equal(ws.readyState, WebSocketClient.CLOSING);
    assert.equal(await serverClose, 1000);
    assert.equal((await closed).code, 1000);
    assert.equal(ws.readyState, WebSocketClient.CLOSED);
  });

  test('the server’s close is answered with the same code; a close without a code is 1005', async () => {
    const echoed = new Promise<number>((resolve) => {
      onConnection = (ws) => {
        ws.on('close', (code) => resolve(code));
        ws.close(1001, 'going away');
      };
    });
    const got = await collect(await open());
    assert.deepEqual([got.code, got.reason], [1001, 'going away']);
    assert.equal(await echoed, 1001);
    onConnection = (ws) => ws.close();
    assert.equal((await collect(await open())).code, 1005);
  });

  test('a dropped connection (no close frame) is 1006', async () => {
    onConnection = (ws) => setTimeout(() => ws.terminate(), 10);
    assert.equal((await collect(await open())).code, 1006);
  });
});

describe('against a raw server (what ws would never send)', () => {
  let server: Server;
  let port: number;
  /** What the server does once it has read the request: its answer, and what it got afterwards. */
  let script: (socket: Socket, key: string) => void = () => {};
  let afterHandshake: Buffer[] = [];
  before(async () => {
    server = createServer((socket) => {
      let head = Buffer.alloc(0);
      const onData = (d: Buffer): void => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const rest = head.subarray(end + 4);
        if (rest.length) afterHandshake.push(rest);
        socket.on('data', (x: Buffer) => afterHandshake.push(x));
        const key = /sec-websocket-key: *(\S+)/i.exec(head.toString())![1]!;
        script(socket, key);
      };
      socket.on('data', onData);
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const ok101 = (key: string, extra = ''): string =>
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n${extra}\r\n`;

  async function run(): Promise<Awaited<ReturnType<typeof upgrade>>> {
    afterHandshake = [];
    return await upgrade(await tcp(port), { path: '/', host: 'edge.test', headers: {} });
  }

  /** The client's reaction to `frames` after a good 101: its error, the close code it sent, the close it reported. */
  async function violation(frames: Buffer): Promise<{ err: Error | undefined; sentCode: number | undefined; closeCode: number }> {
    script = (socket, key) => socket.write(Buffer.concat([Buffer.from(ok101(key)), frames]));
    const r = await run();
    assert.ok(r.ok);
    let err: Error | undefined;
    r.ws.on('error', (e) => (err = e));
    const closeCode = await new Promise<number>((resolve) => {
      r.ws.on('close', (c) => resolve(c));
      r.ws.resume();
    });
    const sent = Buffer.concat(afterHandshake);
    const d = sent.length >= 6 ? decodeClientFrame(sent) : undefined;
    return { err, sentCode: d?.opcode === 0x8 ? d.payload.readUInt16BE(0) : undefined, closeCode };
  }

  test('bytes that came with the 101 wait for resume(), then arrive; a header split across writes is reassembled', async () => {
    const payload = randomBytes(300);
    const frame = serverFrame(0x2, payload);
    script = (socket, key) => {
      socket.write(Buffer.concat([Buffer.from(ok101(key)), frame.subarray(0, 3)]));
      let i = 3;
      const t = setInterval(() => {
        if (i >= frame.length) {
          clearInterval(t);
          socket.write(serverFrame(0x8, closeBody(1000)));
          return;
        }
        socket.write(frame.subarray(i, i + 1));
        i++;
      }, 1);
    };
    const r = await run();
    assert.ok(r.ok);
    const parts: Buffer[] = [];

    r.ws.on('message', (d) => parts.push(Buffer.from(d)));
    await new Promise((res) => setTimeout(res, 30));
    const early = parts.length;
    const closed = new Promise<number>((res) => r.ws.on('close', (c) => res(c)));
    r.ws.resume();
    assert.equal(await closed, 1000);
    assert.equal(early, 0, 'nothing was emitted before resume()');
    assert.ok(Buffer.concat(parts).equals(payload));
  });

  test('a masked server frame, RSV bits, an unknown opcode, a stray continuation, a long or fragmented control frame: 1002', async () => {
    const cases: [string, Buffer][] = [
      ['masked', serverFrame(0x2, Buffer.from('x'), { maskKey: Buffer.from([1, 2, 3, 4]) })],
      ['rsv1', serverFrame(0x2, Buffer.from('x'), { rsv: 4 })],
      ['opcode 3', serverFrame(0x3, Buffer.from('x'))],
      ['opcode 0xb', serverFrame(0xb, Buffer.from('x'))],
      ['continuation', serverFrame(0x0, Buffer.from('x'))],
      ['new message inside one', Buffer.concat([serverFrame(0x2, Buffer.from('a'), { fin: false }), serverFrame(0x2, Buffer.from('b'))])],
      ['long ping', serverFrame(0x9, Buffer.alloc(126))],
      ['fragmented ping', serverFrame(0x9, Buffer.from('p'), { fin: false })],
      ['1-byte close', serverFrame(0x8, Buffer.from([3]))],
      ['close 1005', serverFrame(0x8, closeBody(1005))],
      ['close 999', serverFrame(0x8, closeBody(999))],
    ];
    for (const [what, frames] of cases) {
      const v = await violation(frames);
      assert.ok(v.err instanceof WebSocketProtocolError, `${what}: a protocol error`);
      assert.equal(v.sentCode, 1002, `${what}: closed with 1002`);
      assert.equal(v.closeCode, 1006, `${what}: no close frame from the server`);
    }
  });

  test('a close reason that is not UTF-8: 1007', async () => {
    const v = await violation(serverFrame(0x8, closeBody(1000, Buffer.from([0xc3, 0x28]))));
    assert.ok(v.err instanceof WebSocketProtocolError);
    assert.equal(v.sentCode, 1007);
  });

  test('a frame longer than 2^53 bytes: 1009', async () => {
    const head = Buffer.from([0x82, 127, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    const v = await violation(head);
    assert.equal(v.sentCode, 1009);
  });

  test('a 101 that does not complete the handshake is refused', async () => {
    const bad: [string, (key: string) => string][] = [
      ['wrong accept', () => 'HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n'],
      ['no upgrade', (k) => `HTTP/1.1 101 x\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(k)}\r\n\r\n`],
      ['no connection', (k) => `HTTP/1.1 101 x\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${acceptFor(k)}\r\n\r\n`],
      ['an extension', (k) => ok101(k, 'Sec-WebSocket-Extensions: permessage-deflate\r\n')],
      ['a subprotocol', (k) => ok101(k, 'Sec-WebSocket-Protocol: chat\r\n')],
      ['not HTTP', () => 'SSH-2.0-OpenSSH\r\n\r\n'],
    ];
    for (const [what, answer] of bad) {
      script = (socket, key) => socket.write(answer(key));
      await assert.rejects(run(), (err: unknown) => err instanceof WebSocketProtocolError && err.closeCode === 1002, what);
    }
  });

  test('a non-101 answer is handed back with its status and Location; nothing is followed', async () => {
    script = (socket) =>
      socket.end('HTTP/1.1 302 Found\r\nLocation: https://team.cloudflareaccess.com/cdn-cgi/access/login?x=1\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(await run(), { ok: false, status: 302, location: 'https://team.cloudflareaccess.com/cdn-cgi/access/login?x=1' });
    script = (socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\nbody');
    assert.deepEqual(await run(), { ok: false, status: 503 });
  });

  test(`an answer whose headers pass ${MAX_HANDSHAKE_BYTES} bytes is refused; a connection closed before the answer rejects`, async () => {
    script = (socket) => socket.write(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HANDSHAKE_BYTES + 10)}`);
    await assert.rejects(run(), /longer than/);
    script = (socket) => socket.end();
    await assert.rejects(run(), /closed before the handshake was answered/);
  });
});
