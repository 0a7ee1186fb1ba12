// The carrier's websocket client (RFC 6455, client side only), in place of the `ws`
// package with node's http/https under it: those cost the helper ~2 MB of memory and
// part of its start (docs/BENCHMARKS.md, sixth round). What the carrier needs and no more:
//
// - the upgrade: one HTTP/1.1 GET written on a socket the caller opened (HttpClient.connect:
//   TLS by the same route, proxy tunnel and trust as every request), the answer read up to
//   a bounded size, Sec-WebSocket-Accept checked. Any answer but 101 is handed back with its
//   status and Location, never followed (cloudflared's carrier reads the 302 to the login
//   path; gorilla's dialer follows nothing either);
// - frames: every frame we send is masked with a fresh random key (§5.3); server frames
//   must not be; binary and text data and their continuations are delivered as bytes as
//   they arrive (a byte stream needs no message boundaries, so a large frame is never held
//   whole), ping is answered with pong, close is answered and ends the connection;
// - no extensions (no permessage-deflate is offered) and no subprotocol.
//
// The interface is the part of ws's that pipeCarrier, the forwarder and the doctor use:
// readyState, send(data, cb), bufferedAmount, ping(), close(code), terminate(),
// pause()/resume() and the events 'message', 'pong', 'error', 'close'.

import { createHash, randomFillSync } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { isHeaderName } from '../base/http-header.js';
import { AccessError } from './errors.js';
import { mask } from './ws-mask.js';

export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** The largest handshake answer (status line and headers) read before giving up. */
export const MAX_HANDSHAKE_BYTES = 16 * 1024;
/** After our close frame, how long to wait for the edge's before dropping the connection. */
export const CLOSE_TIMEOUT_MS = 30_000;

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;
export type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSING | typeof CLOSED;

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** A violation of RFC 6455 by the other side; `closeCode` is what we close with (1002, 1007, 1009). */
export class WebSocketProtocolError extends Error {
  constructor(
    message: string,
    readonly closeCode: number,
  ) {
    super(message);
    this.name = 'WebSocketProtocolError';
  }
}

/** Close codes a peer may send (RFC 6455 §7.4; 1004–1006 and 1015 never go on the wire). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

// Random mask keys come from a pool refilled by the CSPRNG, 4 bytes a frame.
const maskPool = Buffer.alloc(4096);
let maskPoolAt = maskPool.length;
function nextMaskKey(): Buffer {
  if (maskPoolAt + 4 > maskPool.length) {
    randomFillSync(maskPool);
    maskPoolAt = 0;
  }
  const key = maskPool.subarray(maskPoolAt, maskPoolAt + 4);
  maskPoolAt += 4;
  return key;
}

/** One masked client frame: header, key and masked payload in one buffer (one write). */
export function encodeFrame(opcode: number, payload: Uint8Array, fin = true, key: Uint8Array = nextMaskKey()): Buffer {
  const n = payload.length;
  const lenBytes = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const head = 2 + lenBytes + 4;
  const frame = Buffer.allocUnsafe(head + n);
  frame[0] = (fin ? 0x80 : 0) | opcode;
  if (lenBytes === 0) frame[1] = 0x80 | n;
  else if (lenBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(n / 0x1_0000_0000), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  frame.set(key.subarray(0, 4), head - 4);
  if (n > 0) mask(payload, key, frame, head, n);
  return frame;
}

export interface WebSocketEvents {
  message: [data: Buffer, isBinary: boolean];
  pong: [data: Buffer];
  error: [err: Error];
  close: [code: number, reason: Buffer];
}

/**
 * An open client websocket on `socket` (after a 101). `head` is what the socket
 * delivered after the handshake's headers (the start of the first frames).
 */
export class WebSocketClient extends EventEmitter<WebSocketEvents> {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  readyState: ReadyState = OPEN;
  private readonly socket: Duplex;
  /** Unparsed bytes: at most one frame header, or a control frame's payload (≤ 125 bytes). */
  private pending: Buffer = Buffer.alloc(0);
  /** Payload bytes of the current data frame still to come, streamed as they arrive. */
  private dataLeft = 0;
  private dataIsBinary = true;
  /** A fragmented data message is in progress (continuations may follow). */
  private inMessage = false;
  private closeSent = false;
  private closeReceived = false;
  private closeCode = 1006;
  private closeReason: Buffer = Buffer.alloc(0);
  private closeTimer: NodeJS.Timeout | undefined;
  private failed = false;
  private started = false;

  /**
   * Nothing is read (and no 'message' emitted) before the first `resume()`: the
   * caller attaches its listeners first, so that the edge's first bytes (already in
   * `head`, or the next chunk) cannot be emitted to nobody.
   */
  constructor(socket: Duplex, head?: Buffer) {
    super();
    this.socket = socket;
    socket.pause();
    if (head && head.length > 0) this.pending = head;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => this.fail(err, 0));
    socket.on('end', () => {
      // The edge half-closed: we are done writing too.
      if (this.readyState !== CLOSED) socket.end();
    });
    socket.once('close', () => this.onSocketClose());
    (socket as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  }

  /** Reading is paused (by `pause()`, or not started yet). */
  get isPaused(): boolean {
    return !this.started || this.socket.isPaused();
  }

  /** Bytes queued on the socket that it has not written yet. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /** Send `data` as one binary frame; `cb` runs once it is handed to the OS (or failed). */
  send(data: Uint8Array, cb?: (err?: Error) => void): void {
    if (this.readyState !== OPEN) {
      if (cb) queueMicrotask(() => cb(new Error('The websocket is not open')));
      return;
    }
    this.write(encodeFrame(OP_BINARY, data), cb);
  }

  ping(data: Uint8Array = Buffer.alloc(0)): void {
    if (this.readyState !== OPEN) return;
    this.write(encodeFrame(OP_PING, data.subarray(0, 125)));
  }

  /** Start the closing handshake (RFC 6455 §7.1.2); the 'close' event follows. */
  close(code = 1000, reason = ''): void {
    if (this.readyState === CLOSED) return;
    if (this.closeSent) return;
    this.sendClose(code, reason, this.closeReceived);
  }

  /**
   * Our close frame, then wait (at most CLOSE_TIMEOUT_MS) for the connection to end.
   * `end`: our side of the TCP connection goes with it (both close frames are then
   * exchanged, or we are failing the connection: §7.1.1).
   */
  private sendClose(code: number, reason: string, end: boolean): void {
    const text = Buffer.from(reason, 'utf8').subarray(0, 123);
    const body = Buffer.allocUnsafe(2 + text.length);
    body.writeUInt16BE(code, 0);
    text.copy(body, 2);
    this.closeSent = true;
    this.readyState = CLOSING;
    const frame = encodeFrame(OP_CLOSE, body);
    if (end) this.socket.end(frame);
    else this.write(frame);
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS);
    this.closeTimer.unref();
  }

  /** Drop the connection at once (no close frame). */
  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  /** Start (or go on) reading; the first call also parses what came with the handshake. */
  resume(): void {
    if (!this.started) {
      this.started = true;
      if (this.pending.length > 0) this.onData(Buffer.alloc(0));
    }
    this.socket.resume();
  }

  private write(frame: Buffer, cb?: (err?: Error) => void): void {
    if (cb) this.socket.write(frame, (err) => cb(err ?? undefined));
    else this.socket.write(frame);
  }

  private onData(chunk: Buffer): void {
    if (this.failed || this.readyState === CLOSED) return;
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    try {
      while (buf.length > 0 && !this.failed) {
        if (this.dataLeft > 0) {
          const n = Math.min(this.dataLeft, buf.length);
          const part = buf.subarray(0, n);
          buf = buf.subarray(n);
          this.dataLeft -= n;
          if (!this.closeReceived) this.emit('message', part, this.dataIsBinary);
          continue;
        }
        const used = this.parseFrame(buf);
        if (used === 0) {
          // An incomplete header (≤ 14 bytes) or control frame (≤ 131 bytes): keep it.
          this.pending = Buffer.from(buf);
          return;
        }
        buf = buf.subarray(used);
      }
    } catch (err) {
      if (err instanceof WebSocketProtocolError) this.fail(err, err.closeCode);
      else throw err;
    }
  }

  /** Parse one frame header at the start of `buf`; returns the bytes used, 0 when more are needed. */
  private parseFrame(buf: Buffer): number {
    if (buf.length < 2) return 0;
    const b0 = buf[0]!;
    const b1 = buf[1]!;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) throw new WebSocketProtocolError('a frame with RSV bits set (no extension was negotiated)', 1002);
    if ((b1 & 0x80) !== 0) throw new WebSocketProtocolError('a masked frame from the server', 1002);
    let len = b1 & 0x7f;
    let at = 2;
    if (len === 126) {
      if (buf.length < 4) return 0;
      len = buf.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (buf.length < 10) return 0;
      const hi = buf.readUInt32BE(2);
      if (hi > 0x1fffff) throw new WebSocketProtocolError('a frame longer than 2^53 bytes', 1009);
      len = hi * 0x1_0000_0000 + buf.readUInt32BE(6);
      at = 10;
    }
    if (opcode >= 0x8) {
      if (!fin) throw new WebSocketProtocolError('a fragmented control frame', 1002);
      if (len > 125) throw new WebSocketProtocolError('a control frame longer than 125 bytes', 1002);
      if (buf.length < at + len) return 0;
      this.onControl(opcode, buf.subarray(at, at + len));
      return at + len;
    }
    if (opcode === OP_CONTINUATION) {
      if (!this.inMessage) throw new WebSocketProtocolError('a continuation frame outside a message', 1002);
    } else if (opcode === OP_TEXT || opcode === OP_BINARY) {
      if (this.inMessage) throw new WebSocketProtocolError('a new message inside a fragmented one', 1002);
      this.dataIsBinary = opcode === OP_BINARY;
    } else {
      throw new WebSocketProtocolError(`a frame with the unknown opcode ${opcode}`, 1002);
    }
    this.inMessage = !fin;
    this.dataLeft = len;
    return at;
  }

  private onControl(opcode: number, payload: Buffer): void {
    if (opcode === OP_PING) {
      if (this.readyState === OPEN) this.write(encodeFrame(OP_PONG, payload));
      return;
    }
    if (opcode === OP_PONG) {
      this.emit('pong', Buffer.from(payload));
      return;
    }
    if (opcode === OP_CLOSE) {
      if (this.closeReceived) return;
      if (payload.length === 1) throw new WebSocketProtocolError('a close frame with a 1-byte body', 1002);
      let code = 1005;
      let reason = Buffer.alloc(0);
      if (payload.length >= 2) {
        code = payload.readUInt16BE(0);
        if (!isValidCloseCode(code)) throw new WebSocketProtocolError(`a close frame with the invalid code ${code}`, 1002);
        reason = Buffer.from(payload.subarray(2));
        if (!isUtf8(reason)) throw new WebSocketProtocolError('a close reason that is not UTF-8', 1007);
      }
      this.closeReceived = true;
      this.closeCode = code;
      this.closeReason = reason;
      if (this.closeSent) this.socket.end();
      else this.close(code === 1005 ? 1000 : code);
      return;
    }
    throw new WebSocketProtocolError(`a frame with the unknown opcode ${opcode}`, 1002);
  }

  /** A protocol error (close with `code`, then drop) or a socket error (code 0: just drop). */
  private fail(err: Error, code: number): void {
    if (this.failed || this.readyState === CLOSED) return;
    this.failed = true;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    if (code !== 0 && !this.closeSent && !this.socket.destroyed) {
      this.sendClose(code, '', true);
    } else {
      this.socket.destroy();
    }
  }

  private onSocketClose(): void {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.readyState = CLOSED;
    // Without the edge's close frame the connection ended abnormally (1006).
    this.emit('close', this.closeReceived ? this.closeCode : 1006, this.closeReason);
  }
}

export type UpgradeResult =
  { readonly ok: true; readonly ws: WebSocketClient } | { readonly ok: false; readonly status: number; readonly location?: string };

export interface UpgradeRequest {
  /** The request target: path and query. */
  readonly path: string;
  /** The Host header (the URL's host, port only when not the default). */
  readonly host: string;
  /** Further headers (a `Host` among them replaces the default, as cloudflared's `--header Host:` does). */
  readonly headers: Readonly<Record<string, string>>;
  /** Fixed Sec-WebSocket-Key (tests); default 16 random bytes. */
  readonly key?: string;
}

/** The headers the upgrade sets itself; a caller's copies are dropped (cloudflared's stripWebsocketHeaders). */
const OWN_HEADERS = new Set(['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions']);

/** The Sec-WebSocket-Accept a server must answer `key` with (§4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
}

/** The request text; throws for a header that would break the request (CR, LF, NUL or a bad name). */
export function upgradeRequestText(req: UpgradeRequest, key: string): string {
  const lines = [`GET ${req.path || '/'} HTTP/1.1`];
  const extra: string[] = [];
  let host = req.host;
  for (const [name, value] of Object.entries(req.headers)) {
    if (!isHeaderName(name)) throw new AccessError('config', `The header name ${JSON.stringify(name.slice(0, 40))} is not valid in HTTP`);
    if (/[\r\n\0]/.test(value)) throw new AccessError('config', `The value of the header ${name} holds a line break or NUL`);
    const lower = name.toLowerCase();
    if (OWN_HEADERS.has(lower)) continue;
    if (lower === 'host') host = value;
    else extra.push(`${name}: ${value}`);
  }
  lines.push(
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...extra,
  );
  return `${lines.join('\r\n')}\r\n\r\n`;
}

interface ParsedHead {
  readonly status: number;
  readonly headers: Map<string, string>;
}

function parseHead(text: string): ParsedHead {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!m) throw new WebSocketProtocolError('an answer that is not HTTP/1.1', 1002);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return { status: Number(m[1]), headers };
}

/**
 * Write the upgrade on `socket` (connected, TLS done or a plain stream) and read the
 * answer. A 101 that does not complete the handshake (Upgrade, Connection or
 * Sec-WebSocket-Accept wrong, an extension or subprotocol we did not offer) rejects
 * with a WebSocketProtocolError; any other status resolves with it and the socket is
 * destroyed. The caller owns deadlines: destroying the socket rejects.
 */
export function upgrade(socket: Duplex, req: UpgradeRequest): Promise<UpgradeResult> {
  const key = req.key ?? randomFillSync(Buffer.alloc(16)).toString('base64');
  const text = upgradeRequestText(req, key);
  return new Promise<UpgradeResult>((resolve, reject) => {
    let got: Buffer = Buffer.alloc(0);
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const failWith = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error): void => failWith(err);
    const onClose = (): void => failWith(new Error('the connection closed before the handshake was answered'));
    const onData = (chunk: Buffer): void => {
      got = got.length === 0 ? chunk : Buffer.concat([got, chunk]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) {
        if (got.length > MAX_HANDSHAKE_BYTES)
          failWith(new WebSocketProtocolError(`a handshake answer longer than ${MAX_HANDSHAKE_BYTES} bytes`, 1002));
        return;
      }
      cleanup();
      let head: ParsedHead;
      try {
        head = parseHead(got.subarray(0, end).toString('latin1'));
      } catch (err) {
        failWith(err as Error);
        return;
      }
      if (head.status !== 101) {
        socket.destroy();
        const location = head.headers.get('location');
        resolve(location === undefined ? { ok: false, status: head.status } : { ok: false, status: head.status, location });
        return;
      }
      const why = checkUpgrade(head.headers, key);
      if (why) {
        failWith(new WebSocketProtocolError(`the server's 101 answer ${why}`, 1002));
        return;
      }
      resolve({ ok: true, ws: new WebSocketClient(socket, Buffer.from(got.subarray(end + 4))) });
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(text);
  });
}

function checkUpgrade(headers: Map<string, string>, key: string): string | undefined {
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket') return 'lacks "Upgrade: websocket"';
  const connection = (headers.get('connection') ?? '').split(',').map((t) => t.trim().toLowerCase());
  if (!connection.includes('upgrade')) return 'lacks "Connection: Upgrade"';
  if (headers.get('sec-websocket-accept') !== acceptFor(key)) return 'has a wrong Sec-WebSocket-Accept';
  if (headers.has('sec-websocket-extensions')) return 'names an extension that was not offered';
  if (headers.has('sec-websocket-protocol')) return 'names a subprotocol that was not offered';
  return undefined;
}
