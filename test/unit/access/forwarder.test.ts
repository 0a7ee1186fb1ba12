// The --url listener (src/access/forwarder.ts) in process, against a local websocket
// server standing in for the edge: one websocket per connection, bytes intact, each
// direction's backpressure per connection (a stalled client stalls only its own
// websocket), a failed open ends only its connection, the bound, the shutdown.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { upgrade, WebSocketClient } from '../../../src/access/websocket.js';
import { runForwarder, type ForwarderStats } from '../../../src/access/forwarder.js';
import { AccessError } from '../../../src/access/errors.js';
import { silentLogger, type Logger } from '../../../src/access/types.js';

interface Edge {
  readonly port: number;
  readonly wss: WebSocketServer;
  readonly sockets: WebSocket[];
  open(): Promise<WebSocketClient>;
  /** The client side of each websocket open() made, in order. */
  readonly clients: WebSocketClient[];
  close(): Promise<void>;
}

async function startEdge(onConnection: (ws: WebSocket) => void): Promise<Edge> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const sockets: WebSocket[] = [];
  const clients: WebSocketClient[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    onConnection(ws);
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    port,
    wss,
    sockets,
    clients,
    open: async () => {
      const socket = connect({ host: '127.0.0.1', port });
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      const r = await upgrade(socket, { path: '/', host: `127.0.0.1:${port}`, headers: {} });
      assert.ok(r.ok);
      clients.push(r.ws);
      return r.ws;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

interface Running {
  port: number;
  abort(): void;
  done: Promise<ForwarderStats>;
  lines: string[];
}

async function startForwarder(open: () => Promise<WebSocketClient>, maxConnections?: number): Promise<Running> {
  const ac = new AbortController();
  const lines: string[] = [];
  const log: Logger = { ...silentLogger, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
  let port = 0;
  let listened!: () => void;
  const listening = new Promise<void>((resolve) => {
    listened = resolve;
  });
  const done = runForwarder({
    listen: { host: '127.0.0.1', port: 0 },
    open,
    log,
    signal: ac.signal,
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    pipe: { keepaliveMs: 0 },
    onListening: (a) => {
      port = a.port;
      listened();
    },
  });
  await Promise.race([listening, done]);
  return { port, abort: () => ac.abort(), done, lines };
}

function tcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads `n` bytes from the socket (or what came before it closed). */
function read(s: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer): void => {
      parts.push(d);
      got += d.length;
      if (got >= n) finish();
    };
    const finish = (): void => {
      s.off('data', onData);
      s.off('close', finish);
      s.pause();
      resolve(Buffer.concat(parts));
    };
    s.on('data', onData);
    s.once('close', finish);
    s.resume();
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 6000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('each accepted connection gets its own websocket; 8 at once, 1 MiB each, intact both ways', async () => {
  const edge = await startEdge((ws) => ws.on('message', (d) => ws.send(d as Buffer)));
  const fw = await startForwarder(() => edge.open());
  try {
    const payloads = Array.from({ length: 8 }, () => randomBytes(1024 * 1024));
    const results = await Promise.all(
      payloads.map(async (p) => {
        const s = await tcp(fw.port);
        s.write(p);
        const back = await read(s, p.length);
        s.destroy();
        return back;
      }),
    );
    for (const [i, b] of results.entries()) assert.equal(sha(b), sha(payloads[i]!), `connection ${i}`);
    assert.equal(edge.sockets.length, 8, 'one websocket per TCP connection');
  } finally {
    fw.abort();
    await fw.done;
    await edge.close();
  }
});

test('download backpressure: a client that does not read stalls its own websocket only', async () => {
  const total = 32 * 1024 * 1024;
  const data = randomBytes(total);
  const edge = await startEdge((ws) => {
    // Send everything as fast as the websocket takes it.
    for (let off = 0; off < total; off += 256 * 1024) ws.send(data.subarray(off, off + 256 * 1024));
  });
  const fw = await startForwarder(() => edge.open());
  try {
    const stalled = await tcp(fw.port);
    stalled.pause(); // reads nothing
    await until('the first websocket', () => edge.clients.length === 1 && edge.clients[0]!.readyState === WebSocketClient.OPEN);
    const flowing = await tcp(fw.port);
    const got = await read(flowing, total);
    assert.equal(sha(got), sha(data), 'the reading client got all of its bytes while the other stalled');
    // The stalled one's websocket was paused: the edge could not hand it everything.
    const stalledEdge = edge.sockets[0]!;
    assert.ok(edge.clients[0]!.isPaused, 'its carrier websocket is paused');
    assert.ok(stalledEdge.bufferedAmount > total / 4, `most of its bytes wait at the edge (${stalledEdge.bufferedAmount} of ${total})`);
    // Reading resumes the flow; the bytes are intact.
    const rest = await read(stalled, total);
    assert.equal(sha(rest), sha(data));
    stalled.destroy();
    flowing.destroy();
  } finally {
    fw.abort();
    await fw.done;
    await edge.close();
  }
});

test('upload backpressure: an edge that does not read pauses the TCP socket; the carrier queue stays bounded', async () => {
  const total = 64 * 1024 * 1024;
  const data = randomBytes(total);
  const received: Buffer[] = [];
  const edge = await startEdge((ws) => {
    ws.pause();
    ws.on('message', (d) => received.push(d as Buffer));
  });
  const fw = await startForwarder(() => edge.open());
  try {
    const s = await tcp(fw.port);
    s.write(data);
    await until('the carrier', () => edge.sockets.length === 1 && edge.clients[0]?.readyState === WebSocketClient.OPEN);
    const carrier = edge.clients[0]!;
    // The edge reads nothing: the carrier's queue reaches pipeCarrier's high-water mark
    // (1 MiB), the TCP socket is paused, and the client keeps most of the upload.
    await until('the carrier queue to fill', () => carrier.bufferedAmount >= 512 * 1024);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(carrier.bufferedAmount < 4 * 1024 * 1024, `the carrier queued little (${carrier.bufferedAmount})`);
    assert.ok(s.writableLength > total / 2, `the client still holds most of the upload (${s.writableLength} of ${total})`);
    assert.equal(received.length, 0);
    edge.sockets[0]!.resume();
    await until('all bytes at the edge', () => received.reduce((n, b) => n + b.length, 0) >= total);
    assert.equal(sha(Buffer.concat(received)), sha(data));
    s.destroy();
  } finally {
    fw.abort();
    await fw.done;
    await edge.close();
  }
});

test('a carrier that fails to open closes only its connection; the listener carries the next', async () => {
  const edge = await startEdge((ws) => ws.on('message', (d) => ws.send(d as Buffer)));
  let calls = 0;
  const fw = await startForwarder(() => {
    calls += 1;
    if (calls === 1)
      return Promise.reject(
        new AccessError('carrier', 'The carrier websocket to db.example.com was answered with HTTP 502', { hint: 'try again' }),
      );
    return edge.open();
  });
  try {
    const first = await tcp(fw.port);
    const nothing = await read(first, 1);
    assert.equal(nothing.length, 0, 'closed without data');
    const second = await tcp(fw.port);
    second.write('ping');
    assert.equal((await read(second, 4)).toString(), 'ping');
    second.destroy();
    assert.ok(
      fw.lines.some((l) => /^Connection 1: The carrier websocket to db\.example\.com was answered with HTTP 502 \(try again\)$/.test(l)),
      fw.lines.join('\n'),
    );
  } finally {
    fw.abort();
    const stats = await fw.done;
    assert.equal(stats.failed, 1);
    assert.equal(stats.accepted, 2);
    await edge.close();
  }
});

test('the bound: beyond maxConnections a connection is closed at once and logged', async () => {
  const edge = await startEdge((ws) => ws.on('message', (d) => ws.send(d as Buffer)));
  const fw = await startForwarder(() => edge.open(), 1);
  try {
    const a = await tcp(fw.port);
    a.write('a');
    assert.equal((await read(a, 1)).toString(), 'a');
    const b = await tcp(fw.port);
    assert.equal((await read(b, 1)).length, 0, 'the second is closed');
    assert.ok(fw.lines.some((l) => /Refused a connection from 127\.0\.0\.1:\d+: 1 connections are open/.test(l)));
    a.destroy();
  } finally {
    fw.abort();
    const stats = await fw.done;
    assert.equal(stats.refused, 1);
    await edge.close();
  }
});

test('shutdown: open carriers get a close frame (1001), their sockets end, runForwarder resolves', async () => {
  const codes: number[] = [];
  const edge = await startEdge((ws) => {
    ws.on('message', (d) => ws.send(d as Buffer));
    ws.on('close', (code) => codes.push(code));
  });
  const fw = await startForwarder(() => edge.open());
  const socks = await Promise.all([tcp(fw.port), tcp(fw.port), tcp(fw.port)]);
  for (const s of socks) s.write('x');
  await Promise.all(socks.map((s) => read(s, 1)));
  const ended = socks.map((s) => new Promise<void>((r) => s.once('close', () => r())));
  for (const s of socks) s.resume();
  fw.abort();
  const stats = await fw.done;
  await Promise.all(ended);
  await until('the edge to see three closes', () => codes.length === 3);
  assert.deepEqual(codes, [1001, 1001, 1001]);
  assert.equal(stats.accepted, 3);
  assert.equal(stats.failed, 0);
  await assert.rejects(tcp(fw.port), /ECONNREFUSED/);
  await edge.close();
});

test('until one carrier has opened, connections open theirs one at a time; then all at once', async () => {
  const edge = await startEdge((ws) => ws.on('message', (d) => ws.send(d as Buffer)));
  let inFlight = 0;
  let maxInFlight = 0;
  const waiting: Array<() => void> = [];
  const fw = await startForwarder(async () => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise<void>((r) => waiting.push(r));
    const ws = await edge.open();
    inFlight -= 1;
    return ws;
  });
  try {
    const socks = await Promise.all(Array.from({ length: 5 }, () => tcp(fw.port)));
    await until('the first open', () => waiting.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(waiting.length, 1, 'the others wait for the first carrier');
    waiting.shift()!();
    // Once one carrier is open, the four others open together.
    await until('the four others at once', () => waiting.length === 4);
    assert.equal(maxInFlight, 4);
    for (const w of waiting.splice(0)) w();
    for (const s of socks) s.write('k');
    const back = await Promise.all(socks.map((s) => read(s, 1)));
    assert.deepEqual(
      back.map((b) => b.toString()),
      ['k', 'k', 'k', 'k', 'k'],
    );
    for (const s of socks) s.destroy();
  } finally {
    fw.abort();
    await fw.done;
    await edge.close();
  }
});
