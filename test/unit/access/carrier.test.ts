// The websocket carrier: piping (bytes intact, multi-MiB, backpressure both
// ways, keepalive, half-close) against a local wss server, and the handshake
// rules (302 to the login → new token → retry once; other statuses are errors)
// against a local server. Against the sandbox edge: test/integration/access/.

import { validateHostname } from '../../../src/ssh/validate.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { carrierHandshake, carrierUrl, isAccessLoginRedirect, openCarrier, pipeCarrier } from '../../../src/access/carrier.js';
import { isAccessError } from '../../../src/access/errors.js';
import { HttpClient } from '../../../src/access/http.js';
import { parseConnectTo } from '../../../src/access/connect-to.js';
import { TokenStore } from '../../../src/access/token-store.js';
import { silentLogger } from '../../../src/access/types.js';
import { WebSocketClient } from '../../../src/access/websocket.js';
import { sha, sink, testCert } from './helpers.js';
import { tempDir } from '../../support/tmp.js';

const HOST = validateHostname('ssh.sandbox.test');

interface WsTestServer {
  readonly port: number;
  readonly wss: WebSocketServer;
  /** Decide per upgrade: undefined accepts, a string is a raw HTTP response to write instead. */
  gate: (headers: import('node:http').IncomingHttpHeaders) => string | undefined;
  readonly upgrades: import('node:http').IncomingHttpHeaders[];
  client(): HttpClient;
  close(): Promise<void>;
}

async function startWsServer(onConnection: (ws: WebSocket) => void): Promise<WsTestServer> {
  const { key, cert } = testCert();
  const server = https.createServer({ key, cert });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const upgrades: import('node:http').IncomingHttpHeaders[] = [];
  const self: WsTestServer = {
    port: 0,
    wss,
    gate: () => undefined,
    upgrades,
    client: () => new HttpClient({ connectTo: parseConnectTo(`::127.0.0.1:${self.port}`), extraCaPem: cert }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('upgrade', (req, socket, head) => {
    upgrades.push(req.headers);
    const refusal = self.gate(req.headers);
    if (refusal !== undefined) {
      socket.end(refusal);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (self as { port: number }).port = (server.address() as AddressInfo).port;
  return self;
}

async function connect(server: WsTestServer): Promise<WebSocketClient> {
  const r = await carrierHandshake(server.client(), new URL(`wss://${HOST}/`), {}, silentLogger);
  assert.ok(r.ok, `the handshake was answered ${r.ok ? 101 : r.status}`);
  return r.ws;
}

/** A Readable giving `total` bytes of `data` in `chunk`-sized pieces, on demand. */
function source(data: Buffer, chunk = 64 * 1024): Readable & { consumed: () => number } {
  let off = 0;
  const r = new Readable({
    highWaterMark: chunk,
    read() {
      if (off >= data.length) {
        this.push(null);
        return;
      }
      const end = Math.min(off + chunk, data.length);
      this.push(data.subarray(off, end));
      off = end;
    },
  }) as Readable & { consumed: () => number };
  r.consumed = () => off;
  return r;
}

describe('pipeCarrier', () => {
  let echo: WsTestServer;
  before(async () => {
    echo = await startWsServer((ws) => {
      ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    });
  });
  after(() => echo.close());

  test('bytes round-trip intact, 8 MiB, in binary frames; stdin EOF closes and ends stdout', async () => {
    const payload = randomBytes(8 * 1024 * 1024);
    const ws = await connect(echo);
    let textFrames = 0;
    ws.on('message', (_d, isBinary) => {
      if (!isBinary) textFrames++;
    });
    const out = sink();
    await pipeCarrier(ws, source(payload), out, { keepaliveMs: 0 });
    assert.equal(out.writableFinished, true);
    assert.equal(out.data().length, payload.length);
    assert.equal(sha(out.data()), sha(payload));
    assert.equal(textFrames, 0);
    assert.equal(ws.readyState, WebSocketClient.CLOSED);
  });

  test('the collection hook runs once per everyBytes carried, both directions counted, and the bytes stay intact', async () => {
    const payload = randomBytes(8 * 1024 * 1024);
    const ws = await connect(echo);
    const out = sink();
    let runs = 0;
    // 8 MiB up and the same 8 MiB back, in 64 KiB chunks and frames: 16 MiB carried.
    await pipeCarrier(ws, source(payload), out, { keepaliveMs: 0, collect: { everyBytes: 1024 * 1024, run: () => runs++ } });
    assert.equal(runs, 16);
    assert.equal(sha(out.data()), sha(payload));
  });

  test('a slow stdout pauses the websocket: the output buffer stays bounded', async () => {
    const total = 16 * 1024 * 1024;
    let serverWs: WebSocket | undefined;
    const srv = await startWsServer((ws) => {
      serverWs = ws;
      const chunk = randomBytes(256 * 1024);
      let sent = 0;
      const pump = (): void => {
        while (sent < total && ws.bufferedAmount < 8 * 1024 * 1024) {
          ws.send(chunk);
          sent += chunk.length;
        }
        if (sent < total) setTimeout(pump, 5);
        else ws.close(1000);
      };
      pump();
    });
    try {
      const ws = await connect(srv);
      let pauses = 0;
      const origPause = ws.pause.bind(ws);
      ws.pause = () => {
        pauses++;
        origPause();
      };
      const out = sink({ delayMs: 1, highWaterMark: 64 * 1024 });
      const input = new Readable({ read() {} }); // never ends: the server closes
      await pipeCarrier(ws, input, out, { keepaliveMs: 0 });
      assert.equal(out.data().length, total);
      assert.ok(pauses > 0, 'the websocket was paused');
      assert.ok(out.maxBuffered() < 2 * 1024 * 1024, `output buffer bounded (max ${out.maxBuffered()})`);
      assert.ok(serverWs);
    } finally {
      await srv.close();
    }
  });

  test('a websocket that does not drain pauses stdin, which resumes when it drains', async () => {
    let serverWs: WebSocket | undefined;
    let received = 0;
    const srv = await startWsServer((ws) => {
      serverWs = ws;
      ws.pause(); // read nothing for now
      ws.on('message', (d) => {
        received += (d as Buffer).length;
      });
    });
    try {
      const ws = await connect(srv);
      const total = 96 * 1024 * 1024;
      const payload = Buffer.alloc(total, 7);
      const input = source(payload);
      const out = sink();
      const done = pipeCarrier(ws, input, out, { keepaliveMs: 0, highWaterMark: 1024 * 1024 });
      await new Promise((r) => setTimeout(r, 400));
      const consumedWhileStalled = input.consumed();
      assert.ok(consumedWhileStalled < 32 * 1024 * 1024, `stdin was paused (read ${consumedWhileStalled} of ${total})`);
      assert.ok(ws.bufferedAmount < 8 * 1024 * 1024, `little queued in the client (${ws.bufferedAmount})`);
      serverWs!.resume();
      await done;
      assert.equal(input.consumed(), total);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(received, total);
    } finally {
      await srv.close();
    }
  });

  test('keepalive pings; the server closing ends stdout and resolves', async () => {
    let pings = 0;
    const srv = await startWsServer((ws) => {
      ws.on('ping', () => {
        pings++;
        if (pings === 2) {
          ws.send(Buffer.from('bye'));
          ws.close(1000);
        }
      });
    });
    try {
      const ws = await connect(srv);
      const out = sink();
      await pipeCarrier(ws, new Readable({ read() {} }), out, { keepaliveMs: 30 });
      assert.equal(pings, 2);
      assert.equal(out.data().toString(), 'bye');
      assert.equal(out.writableFinished, true);
    } finally {
      await srv.close();
    }
  });

  test('a connection dropped without a close frame rejects with a carrier error', async () => {
    const srv = await startWsServer((ws) => {
      setTimeout(() => ws.terminate(), 20);
    });
    try {
      const ws = await connect(srv);
      const out = sink();
      await assert.rejects(pipeCarrier(ws, new Readable({ read() {} }), out, { keepaliveMs: 0 }), (err: unknown) =>
        isAccessError(err, 'carrier'),
      );
      assert.equal(out.writableFinished, true, 'stdout still ended');
    } finally {
      await srv.close();
    }
  });

  test('a broken stdout (ssh went away) closes the websocket and resolves', async () => {
    const srv = await startWsServer((ws) => {
      const t = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(randomBytes(1024));
        else clearInterval(t);
      }, 5);
    });
    try {
      const ws = await connect(srv);
      const out = new Writable({
        write(_c, _e, cb) {
          cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
        },
      });
      await pipeCarrier(ws, new Readable({ read() {} }), out, { keepaliveMs: 0 });
      assert.notEqual(ws.readyState, WebSocketClient.OPEN);
    } finally {
      await srv.close();
    }
  });
});

describe('handshake rules', () => {
  test('isAccessLoginRedirect: only a 302 to /cdn-cgi/access/login', () => {
    const base = new URL('wss://ssh.sandbox.test/');
    assert.equal(isAccessLoginRedirect(302, 'https://team.cloudflareaccess.com/cdn-cgi/access/login/ssh.sandbox.test?x=1', base), true);
    assert.equal(isAccessLoginRedirect(302, '/cdn-cgi/access/login', base), true);
    assert.equal(isAccessLoginRedirect(301, 'https://team.cloudflareaccess.com/cdn-cgi/access/login', base), false);
    assert.equal(isAccessLoginRedirect(302, 'https://elsewhere.test/', base), false);
    assert.equal(isAccessLoginRedirect(302, undefined, base), false);
    assert.equal(carrierUrl(new URL('https://ssh.sandbox.test/#x')).href, 'wss://ssh.sandbox.test/');
  });

  test('service token headers, no compression offered; 302 → token-refused, other status → carrier error', async (t) => {
    const srv = await startWsServer((ws) => ws.close(1000));
    try {
      const ctx = { http: srv.client(), store: new TokenStore(tempDir(t, 'carrier-st-')), log: silentLogger };
      const serviceToken = { clientId: 'id.access', clientSecret: 's3cret' };
      const ws = await openCarrier(ctx, HOST, { serviceToken, login: { interactive: false } });
      ws.terminate();
      const h = srv.upgrades.at(-1)!;
      assert.equal(h['cf-access-client-id'], 'id.access');
      assert.equal(h['cf-access-client-secret'], 's3cret');
      assert.equal(h['cf-access-token'], undefined);
      assert.equal(h['sec-websocket-extensions'], undefined);
      assert.equal(h.host, HOST);

      srv.gate = () =>
        'HTTP/1.1 302 Found\r\nLocation: https://sandbox.cloudflareaccess.com/cdn-cgi/access/login/ssh.sandbox.test\r\nContent-Length: 0\r\n\r\n';
      await assert.rejects(openCarrier(ctx, HOST, { serviceToken, login: { interactive: false } }), (err: unknown) =>
        isAccessError(err, 'token-refused'),
      );
      srv.gate = () => 'HTTP/1.1 302 Found\r\nLocation: https://elsewhere.test/\r\nContent-Length: 0\r\n\r\n';
      await assert.rejects(
        openCarrier(ctx, HOST, { serviceToken, login: { interactive: false } }),
        (err: unknown) => isAccessError(err, 'carrier') && /HTTP 302/.test(err.message),
      );
      srv.gate = () => 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n';
      await assert.rejects(openCarrier(ctx, HOST, { serviceToken, login: { interactive: false } }), (err: unknown) => {
        assert.ok(isAccessError(err, 'carrier'));
        assert.match(err.message, /HTTP 503/);
        assert.ok(!err.message.includes('s3cret'));
        return true;
      });
    } finally {
      await srv.close();
    }
  });
});
