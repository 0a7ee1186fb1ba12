// `cloudflared access` flags people already have (issue 8, item 5), end to end against
// the sandbox: `access-ssh tcp --url` carries a real TCP service (a second real sshd,
// the origin of tcp.sandbox.test) with many connections at once; --destination and
// --header reach the edge (bastion.sandbox.test routes on Cf-Access-Jump-Destination,
// as cloudflared's bastion mode does); the listener is bounded, survives a failed
// connection and shuts down cleanly on SIGTERM; --logfile; the usage errors.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSandbox, TCP_APP, BASTION_APP, DB_APP, type Sandbox } from '../sandbox/sandbox';
import { delta, HELPER, helperMissing, makeClient, runProcess, snapshot, type Client, type RunResult } from './harness';
import { waitFor } from '../support/wait';
import { sshArgs } from '../support/ssh-args';

const missing = helperMissing();

interface Listener {
  child: ChildProcess;
  port: number;
  stderr(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `access-ssh <args>` (a --url listener on port 0) and waits for its "Listening on" line. */
async function startListener(c: Client, args: string[]): Promise<Listener> {
  const child = spawn(process.execPath, [HELPER, ...args], { env: c.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const port = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the listener exited with ${child.exitCode}: ${err}`);
      return Number(/Listening on 127\.0\.0\.1:(\d+)/.exec(err)?.[1] ?? 0);
    },
    { what: 'the "Listening on" line of access-ssh tcp' },
  ).catch((e: Error) => {
    throw new Error(`${e.message}; its stderr: ${err}`);
  });
  return { child, port, stderr: () => err, exit };
}

/** `ssh -p port jdoe@127.0.0.1 <command>` with the certificate of `app`, stdin from `input`. */
function sshVia(
  c: Client,
  port: number,
  app: string,
  knownHosts: string,
  command: string,
  input: Buffer,
): Promise<RunResult & { out: Buffer }> {
  const key = join(c.home, '.cloudflared', `${app}-cf_key`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(
      'ssh',
      sshArgs({
        port,
        key,
        knownHosts,
        strictHostKeyChecking: 'yes',
        connectTimeout: 60,
        destination: 'jdoe@127.0.0.1',
        command: [command],
      }),
      { env: c.env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const buf = Buffer.concat(out);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: buf.toString('latin1'), out: buf, stderr, ms: Date.now() - started });
    });
  });
}

/** A raw TCP client of the listener: resolves with the first bytes (the sshd banner), or '' when closed first. */
function firstBytes(port: number): Promise<{ socket: Socket; banner: string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', () => {});
    socket.once('data', (d: Buffer) => resolve({ socket, banner: d.toString('latin1'), closed }));
    socket.once('end', () => resolve({ socket, banner: '', closed }));
    socket.once('close', () => resolve({ socket, banner: '', closed }));
    setTimeout(() => reject(new Error('no banner and no close within 120 s')), 120_000).unref();
  });
}

describe('access-ssh tcp --url: a local listener carried over Access', { skip: missing }, () => {
  let sb: Sandbox;
  let c: Client;
  const listeners: Listener[] = [];
  let knownHosts: string;

  before(async () => {
    sb = await startSandbox({ tcpService: true, database: true });
    c = makeClient(sb, 'tcp');
    // One login and a certificate for each app (the sshds trust the same user CA).
    for (const app of [TCP_APP, BASTION_APP]) {
      const r = await c.helper(['ssh-gen', '--hostname', app]);
      assert.equal(r.code, 0, r.stderr);
    }
    knownHosts = join(c.home, '.ssh', 'known_hosts_tcp');
  });
  after(async () => {
    for (const l of listeners) if (l.child.exitCode === null && l.child.signalCode === null) l.child.kill('SIGKILL');
    await sb?.stop();
    if (c) rmSync(c.home, { recursive: true, force: true });
  });

  const listen = async (args: string[]): Promise<Listener> => {
    const l = await startListener(c, args);
    listeners.push(l);
    // The listener's port serves the second sshd: trust its host key there, nothing else.
    writeFileSync(knownHosts, `[127.0.0.1]:${l.port} ${sb.tcpSshd!.hostKey}\n`);
    return l;
  };

  it(
    'carries 20 ssh sessions at once through one listener, each with its own 256 KiB both ways, to the second sshd',
    { timeout: 600_000 },
    async () => {
      assert.notEqual(sb.tcpSshd!.hostKey, sb.sshd!.hostKey, 'the TCP service is a sshd of its own');
      const l = await listen(['--loglevel', 'info', 'access', 'tcp', '--hostname', TCP_APP, '--url', '127.0.0.1:0']);
      const b = snapshot(sb);
      const inputs = Array.from({ length: 20 }, () => randomBytes(256 * 1024));
      // sha256sum proves the server got each session's bytes whole; `cat` sends them back.
      const runs = await Promise.all(inputs.map((input) => sshVia(c, l.port, TCP_APP, knownHosts, 'sha256sum', input)));
      const echoes = await Promise.all(inputs.map((input) => sshVia(c, l.port, TCP_APP, knownHosts, 'cat', input)));
      for (const [i, r] of runs.entries()) {
        assert.equal(r.code, 0, `session ${i}: ${r.stderr.slice(-2000)}\n--- listener ---\n${l.stderr().slice(-2000)}`);
        assert.equal(
          r.stdout.split(' ')[0],
          createHash('sha256').update(inputs[i]!).digest('hex'),
          `session ${i}: the server hashed exactly what this session sent`,
        );
      }
      for (const [i, r] of echoes.entries()) {
        assert.equal(r.code, 0, `echo ${i}: ${r.stderr.slice(-2000)}`);
        assert.ok(r.out.equals(inputs[i]!), `echo ${i}: got back its own ${inputs[i]!.length} bytes (got ${r.out.length})`);
      }
      const d = delta(sb, b);
      assert.equal(d.carrierAccepted, 40, 'one websocket per TCP connection');
      assert.equal(d.approvals + d.certSigns, 0, 'no login, no certificate: the stored token is used');
      const handshakes = sb.carrierRequests().filter((r) => r.host === TCP_APP && r.outcome === 'accepted');
      assert.ok(handshakes.length >= 40, `${handshakes.length} accepted carrier handshakes for ${TCP_APP}`);
      assert.ok(sb.tcpSshd!.log().includes('Accepted publickey for jdoe'), 'the second sshd authenticated the sessions');
      assert.match(l.stderr(), /Connection 40 from 127\.0\.0\.1:\d+: opening a carrier/);
    },
  );

  it(
    'a real PostgreSQL behind Access: 20 psql clients at once through one listener, each its own session and data',
    { timeout: 600_000 },
    async () => {
      const l = await listen(['tcp', '--hostname', DB_APP, '--url', '127.0.0.1:0']);
      const b = snapshot(sb);
      const words = Array.from({ length: 20 }, () => randomBytes(12).toString('hex'));
      // Each client sends its own word and gets back its hash and ~330 KB derived from it.
      const runs = await Promise.all(
        words.map((w) =>
          runProcess(
            'psql',
            [
              `host=127.0.0.1 port=${l.port} user=${sb.database!.user} dbname=postgres sslmode=disable connect_timeout=120`,
              '-X',
              '-A',
              '-t',
              '-v',
              'ON_ERROR_STOP=1',
              '-c',
              `select md5('${w}') || ' ' || pg_backend_pid() || ' ' || length(repeat(md5('${w}'), 10000)) || ' ' || md5(repeat(md5('${w}'), 10000))`,
            ],
            { ...c.env, PGCONNECT_TIMEOUT: '120' },
            300_000,
          ),
        ),
      );
      const pids = new Set<string>();
      for (const [i, r] of runs.entries()) {
        assert.equal(r.code, 0, `psql ${i}: ${r.stderr}\n--- listener ---\n${l.stderr().slice(-4000)}`);
        const [hash, pid, len, big] = r.stdout.trim().split(' ');
        const md5 = (x: string): string => createHash('md5').update(x).digest('hex');
        assert.equal(hash, md5(words[i]!), `client ${i} got the answer to its own query`);
        assert.equal(len, '320000');
        assert.equal(big, md5(md5(words[i]!).repeat(10000)));
        pids.add(pid!);
      }
      assert.equal(pids.size, 20, 'twenty server sessions');
      const d = delta(sb, b);
      assert.equal(d.carrierAccepted, 20, 'one websocket per connection');
      assert.ok(sb.database!.log().includes('connection authorized: user=postgres database=postgres'), 'the server logged the connections');
      l.child.kill('SIGTERM');
      assert.equal((await l.exit).code, 0);
    },
  );

  it(
    'a refused carrier ends only that connection; --max-connections bounds the rest; SIGTERM closes them and exits 0',
    { timeout: 300_000 },
    async () => {
      const l = await listen(['tcp', '--hostname', TCP_APP, '--url', '127.0.0.1:0', '--max-connections', '2', '--loglevel', 'info']);
      // 1. The edge answers one handshake with 502: that client is closed without a banner.
      sb.setOptions({ faults: { carrier: { status: 502, times: 1 } } });
      const failed = await firstBytes(l.port);
      assert.equal(failed.banner, '', 'the failed connection got nothing');
      await failed.closed;
      assert.match(l.stderr(), /Connection 1: The carrier websocket to tcp\.sandbox\.test was answered with HTTP 502/);
      // 2. The listener is still there: two connections reach the sshd.
      const a = await firstBytes(l.port);
      const b = await firstBytes(l.port);
      assert.match(a.banner, /^SSH-2\.0-OpenSSH/);
      assert.match(b.banner, /^SSH-2\.0-OpenSSH/);
      // 3. A third one, beyond --max-connections 2, is closed at once and said so.
      const third = await firstBytes(l.port);
      assert.equal(third.banner, '');
      await third.closed;
      assert.match(l.stderr(), /Refused a connection from 127\.0\.0\.1:\d+: 2 connections are open \(--max-connections\)/);
      // 4. One closes: there is room again.
      a.socket.destroy();
      await a.closed;
      // The listener sees a's close a moment after us: connect until one is let in.
      const again = await waitFor(
        async () => {
          const t = await firstBytes(l.port);
          return t.banner === '' ? undefined : t;
        },
        { what: 'a connection let in again after one of two closed' },
      );
      assert.match(again.banner, /^SSH-2\.0-OpenSSH/);
      // 5. SIGTERM: open connections are closed, the process exits 0, the port is free.
      l.child.kill('SIGTERM');
      const exit = await l.exit;
      assert.deepEqual(exit, { code: 0, signal: null }, l.stderr());
      await Promise.all([b.closed, again.closed]);
      assert.match(l.stderr(), /SIGTERM: closing the connections/);
      assert.match(l.stderr(), /Stopped: \d+ connection\(s\) accepted, 1 failed, \d+ refused/);
      const refused = await new Promise<string>((resolve) => {
        const s = connect(l.port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      assert.equal(refused, 'ECONNREFUSED', 'nothing listens after shutdown');
    },
  );

  it('--destination and -H reach the edge: the bastion app routes on Cf-Access-Jump-Destination', { timeout: 300_000 }, async () => {
    const dest = `127.0.0.1:${sb.tcpSshd!.port}`;
    const l = await listen([
      'ssh',
      '--hostname',
      BASTION_APP,
      '--destination',
      dest,
      '-H',
      'X-Team: blue',
      '--header',
      'x-team: green',
      '-H',
      'X-Trace:  abc ',
      '127.0.0.1:0',
    ]);
    const input = randomBytes(64 * 1024);
    const r = await sshVia(c, l.port, BASTION_APP, knownHosts, 'cat', input);
    assert.equal(r.code, 0, `${r.stderr}\n--- listener ---\n${l.stderr()}`);
    assert.ok(r.out.equals(input));
    const seen = sb
      .carrierRequests()
      .filter((q) => q.host === BASTION_APP && q.outcome === 'accepted')
      .at(-1);
    assert.ok(seen, 'the edge saw the bastion handshake');
    assert.equal(seen.destination, dest);
    assert.equal(seen.headers['cf-access-jump-destination'], dest);
    assert.equal(seen.headers['x-team'], 'blue, green');
    assert.equal(seen.headers['x-trace'], 'abc');
    l.child.kill('SIGINT');
    assert.equal((await l.exit).code, 0);

    // The same through the ProxyCommand (stdin/stdout); without --destination the bastion refuses.
    const node = process.execPath;
    const cfg = join(c.home, '.ssh', 'config-bastion');
    const key = join(c.home, '.cloudflared', `${BASTION_APP}-cf_key`);
    const entry = (extra: string) =>
      [
        `Host ${BASTION_APP}`,
        `  ProxyCommand ${node} ${HELPER} access ssh --hostname %h ${extra}`,
        `  IdentityFile ${key}`,
        `  CertificateFile ${key}-cert.pub`,
        '  IdentitiesOnly yes',
        '  User jdoe',
        '',
      ].join('\n');
    writeFileSync(join(c.home, '.ssh', 'known_hosts_bastion'), `${BASTION_APP} ${sb.tcpSshd!.hostKey}\n`);
    writeFileSync(cfg, entry(`--destination tcp://${dest}/ -H "X-Team: red"`));
    const args = sshArgs({
      config: cfg,
      knownHosts: join(c.home, '.ssh', 'known_hosts_bastion'),
      strictHostKeyChecking: 'yes',
      destination: BASTION_APP,
      command: ['whoami'],
    });
    const ok = await runProcess('ssh', args, c.env);
    assert.equal(ok.code, 0, `${ok.stderr}\n${args.join(' ')}`);
    assert.equal(ok.stdout.trim(), 'jdoe');
    const viaProxy = sb
      .carrierRequests()
      .filter((q) => q.host === BASTION_APP)
      .at(-1)!;
    assert.equal(viaProxy.destination, `tcp://${dest}/`, 'sent verbatim, as cloudflared does; the bastion strips scheme and path');
    assert.equal(viaProxy.headers['x-team'], 'red');
    assert.equal(viaProxy.headers['cf-access-token'], undefined, 'the record leaves credentials out');

    writeFileSync(cfg, entry(''));
    const no = await runProcess('ssh', args, c.env);
    assert.notEqual(no.code, 0);
    assert.match(no.stderr, /answered with HTTP 502/);
    assert.equal(
      sb
        .carrierRequests()
        .filter((q) => q.host === BASTION_APP)
        .at(-1)!.outcome,
      '502',
    );
  });

  it("rdp --logfile (given before the command): the listener's log in a 0600 file, without the token", { timeout: 300_000 }, async () => {
    const logFile = join(c.home, 'logs', 'tcp.log');
    mkdirSync(join(c.home, 'logs'), { recursive: true });
    const l = await listen([
      '--logfile',
      logFile,
      '--loglevel',
      'debug',
      'access',
      'rdp',
      '-T',
      TCP_APP,
      '-L',
      '127.0.0.1:0',
      '-H',
      'X-Note: hello',
    ]);
    const first = await firstBytes(l.port);
    assert.match(first.banner, /^SSH-2\.0-OpenSSH/);
    first.socket.destroy();
    l.child.kill('SIGTERM');
    assert.equal((await l.exit).code, 0);
    assert.equal(statSync(logFile).mode & 0o777, 0o600);
    const text = readFileSync(logFile, 'utf8');
    assert.match(text, /^\S+Z \[\d+\] access-ssh: Listening on 127\.0\.0\.1:\d+/m);
    assert.match(text, /Connection 1 from 127\.0\.0\.1:\d+: opening a carrier/);
    assert.match(text, /debug: Extra carrier headers: X-Note/);
    assert.match(text, /Stopped: 1 connection\(s\) accepted/);
    const dir = join(c.home, '.cloudflared');
    const tokens = readdirSync(dir)
      .filter((n) => n.endsWith('-token'))
      .map((n) => readFileSync(join(dir, n), 'utf8').trim());
    assert.ok(tokens.length > 0);
    for (const t of tokens) assert.ok(!text.includes(t), 'no token in the log file');
    assert.ok(!text.includes('hello'), 'header values are not logged');
  });

  it('10 connections at once before any login: one browser login, all carried', { timeout: 300_000 }, async () => {
    const fresh = makeClient(sb, 'tcp-fresh');
    try {
      const l = await startListener(fresh, ['tcp', '--hostname', TCP_APP, '--url', '127.0.0.1:0']);
      listeners.push(l);
      const b = snapshot(sb);
      const conns = await Promise.all(Array.from({ length: 10 }, () => firstBytes(l.port)));
      for (const [i, x] of conns.entries()) assert.match(x.banner, /^SSH-2\.0-OpenSSH/, `connection ${i}: ${l.stderr().slice(-1500)}`);
      const d = delta(sb, b);
      assert.equal(d.approvals, 1, 'one login for all ten');
      assert.equal(fresh.browserOpens(), 1, 'the browser was opened once');
      assert.equal(d.carrierAccepted, 10);
      for (const x of conns) x.socket.destroy();
      l.child.kill('SIGTERM');
      assert.equal((await l.exit).code, 0);
    } finally {
      rmSync(fresh.home, { recursive: true, force: true });
    }
  });

  it('usage errors: exit 2, one message saying what to use instead, nothing listens', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['tcp', '--hostname', TCP_APP, '--url', '127.0.0.1'], /--url: "127\.0\.0\.1" has no port/],
      [['tcp', '--hostname', TCP_APP, '--url', '127.0.0.1:1', '127.0.0.1:2'], /--url or the argument, not both/],
      [['ssh', '--hostname', TCP_APP, '-H', 'NoColon'], /"Name: value"/],
      [['ssh', '--hostname', TCP_APP, '-H', 'Cf-Access-Token: x'], /sends the stored app token itself/],
      [['ssh', '--hostname', TCP_APP, '--destination', 'a b'], /--destination .* has a space/],
      [['ssh', '--hostname', TCP_APP, '--max-connections', '5'], /--max-connections goes with --url/],
      [['tcp', '--hostname', TCP_APP, '--url', '127.0.0.1:0', '--max-connections', '0'], /--max-connections takes a whole number/],
      [['ssh', '--hostname', TCP_APP, '--connect-to', 'x'], /ACCESS_SSH_CONNECT_TO/],
      [['--logfile', 'a.log', '--log-directory', 'd', 'ssh', '--hostname', TCP_APP], /do not go together/],
      [['access', 'curl', `https://${TCP_APP}`], /"curl" is not supported/],
    ];
    for (const [argv, re] of cases) {
      const r = await c.helper(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, argv.join(' '));
      assert.match(r.stderr, /Run "access-ssh (help ssh|--help)" for usage/);
    }
    // A port in use: exit 1 naming the address and what to do.
    const l = await listen(['tcp', '--hostname', TCP_APP, '--url', '127.0.0.1:0']);
    const busy = await c.helper(['tcp', '--hostname', TCP_APP, '--url', `127.0.0.1:${l.port}`]);
    assert.equal(busy.code, 1, busy.stderr);
    assert.match(
      busy.stderr,
      new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${l.port}: the port is in use \\(EADDRINUSE\\)[\\s\\S]*choose another one in --url`),
    );
    l.child.kill('SIGTERM');
    assert.equal((await l.exit).code, 0);
    assert.ok(existsSync(c.home));
  });
});
