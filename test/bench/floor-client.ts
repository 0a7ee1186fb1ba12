// The start-up floor of any Node carrier, for the benchmark's "helper start → first
// byte" figure: a runtime that opens TLS to the sandbox edge (the same trust store:
// NODE_EXTRA_CA_CERTS, which Node reads at start as it does for the helper), sends the
// websocket upgrade with the stored app token, and exits at the first byte of the first
// frame (sshd's banner). It pays what the helper cannot avoid (the runtime, TLS, the
// edge's token check and its connection to sshd) and none of the helper's own work
// (its bundle, ws, argument parsing, the token store's checks).
//
//   node floor-client.js <edge port> <app host> <token file> [--stay]
//
// With --stay it stays connected after that byte (reading and dropping what comes) until
// its stdin ends: the memory of a runtime holding one TLS connection to the edge.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';

const [port, host, tokenFile, stay] = process.argv.slice(2);
if (!port || !host || !tokenFile) {
  process.stderr.write('usage: floor-client.js <edge port> <app host> <token file>\n');
  process.exit(2);
}
const token = readFileSync(tokenFile, 'utf8').trim();
const socket = connect({ host: '127.0.0.1', port: Number(port), servername: host, ALPNProtocols: ['http/1.1'] }, () => {
  socket.write(
    `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
      `Cf-Access-Token: ${token}\r\n\r\n`,
  );
});
let head = Buffer.alloc(0);
socket.on('data', (d: Buffer) => {
  head = Buffer.concat([head, d]);
  const end = head.indexOf('\r\n\r\n');
  if (end < 0) return;
  if (!head.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) {
    process.stderr.write(`floor-client: ${head.subarray(0, head.indexOf('\r\n')).toString()}\n`);
    process.exit(1);
  }
  const frame = head.subarray(end + 4);
  if (frame.length < 3) return; // the 101 alone so far; the banner's frame comes next
  // One unmasked server frame: 2 header bytes (payload < 126) and the payload.
  socket.removeAllListeners('data');
  if (stay === '--stay') {
    process.stdout.write(frame.subarray(2, 3));
    socket.on('data', () => {});
    process.stdin.on('end', () => process.exit(0)).resume();
  } else {
    process.stdout.write(frame.subarray(2, 3), () => process.exit(0));
  }
});
socket.on('error', (err: Error) => {
  process.stderr.write(`floor-client: ${err.message}\n`);
  process.exit(1);
});
