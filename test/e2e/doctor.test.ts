// `access-ssh doctor` (issue 10, item 1) against the sandbox: healthy, then in each
// fault, asserting the step that fails, its next step and the exit code. The client
// uses the entries the product writes (src/ssh/entries.ts) with the real helper, the
// real ssh and the sandbox's real sshd.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderEntries } from '../../src/ssh/entries';
import type { DoctorReport, StepId } from '../../src/doctor/doctor';
import { proxiedMissing, PROXY_PASSWORD, PROXY_USER, startProxiedSandbox, type ProxiedSandbox } from '../sandbox/proxied';
import { startSandbox, type Faults, type Sandbox } from '../sandbox/sandbox';
import { squidMissing } from '../sandbox/squid';
import { APP, HELPER, helperMissing, makeClient, type Client, type RunResult } from './harness';

const missing = helperMissing();
const ALIAS = `cfpipe-${APP}`;

/** A client whose ssh config holds the product's entries for APP (absolute key paths: HOME is not the passwd home). */
function doctorClient(sb: Sandbox, name: string, extraConfig = ''): Client {
  const c = makeClient(sb, name);
  const entries = renderEntries([{ hostname: APP, user: 'jdoe' }], {
    helper: HELPER,
    keyDir: join(c.home, '.cloudflared'),
    platform: 'linux',
    nonInteractive: true,
  });
  writeFileSync(c.config, `${extraConfig}${entries}\nHost *\n  UserKnownHostsFile ${c.knownHosts}\n`, { mode: 0o600 });
  writeFileSync(c.knownHosts, `${sb.knownHostsLine}\n`);
  return c;
}

interface Doctor {
  run: RunResult;
  report: DoctorReport;
}

async function doctor(c: Client, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Doctor> {
  const run = await c.helper(['doctor', '--hostname', APP, '--config', c.config, '--json', ...args], env);
  let report: DoctorReport;
  try {
    report = JSON.parse(run.stdout) as DoctorReport;
  } catch {
    throw new Error(`no JSON report (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  return { run, report };
}

function status(r: DoctorReport): Record<string, string> {
  return Object.fromEntries(r.steps.map((s) => [s.id, s.status]));
}

/** Exit 1, the first failed step is `id`, its cause and next step say what they must, and the steps before it passed. */
function assertFailsAt(d: Doctor, id: StepId, cause: RegExp, next: RegExp): void {
  const text = JSON.stringify(d.report, null, 1);
  assert.equal(d.run.code, 1, `exit 1\n${text}\n${d.run.stderr}`);
  assert.equal(d.report.ok, false);
  assert.equal(d.report.failed, id, `first failed step\n${text}`);
  const s = d.report.steps.find((x) => x.id === id)!;
  assert.equal(s.status, 'failed');
  assert.match(s.cause ?? '', cause, text);
  assert.match(s.next ?? '', next, text);
  assertNoSecret(d.run.stdout + d.run.stderr);
}

function assertNoSecret(text: string): void {
  assert.doesNotMatch(text, /eyJ[\w-]{10,}\.eyJ/, 'no token');
  assert.doesNotMatch(text, /PRIVATE KEY/, 'no key');
  assert.doesNotMatch(text, /\n\s+at .*\(/, 'no stack trace');
}

describe('access-ssh doctor', { skip: missing }, () => {
  let sb: Sandbox;
  const homes: string[] = [];
  let n = 0;
  const fresh = (extra = ''): Client => {
    sb.setOptions({ faults: null } as never);
    const c = doctorClient(sb, `doctor${n++}`, extra);
    homes.push(c.home);
    return c;
  };
  const signedIn = async (extra = ''): Promise<Client> => {
    const c = fresh(extra);
    const r = await c.helper(['login', `https://${APP}`]);
    assert.equal(r.code, 0, r.stderr);
    return c;
  };
  const fault = (f: Faults): void => {
    sb.setOptions({ faults: null } as never);
    sb.setOptions({ faults: f });
  };

  before(async () => {
    sb = await startSandbox();
  });
  after(async () => {
    await sb?.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it('healthy: every step passes (the proxy is skipped), exit 0, and the real ssh logs in as jdoe', async () => {
    const c = await signedIn();
    const d = await doctor(c, ['--non-interactive']);
    assert.equal(d.run.code, 0, JSON.stringify(d.report, null, 1) + d.run.stderr);
    assert.equal(d.report.ok, true);
    assert.deepEqual(status(d.report), {
      dns: 'passed',
      proxy: 'skipped',
      tls: 'passed',
      discovery: 'passed',
      metadata: 'passed',
      clock: 'passed',
      tokens: 'passed',
      cert_sign: 'passed',
      certificate: 'passed',
      carrier: 'passed',
      ssh_config: 'passed',
      ssh: 'passed',
    });
    const text = JSON.stringify(d.report);
    assert.match(text, /ACCESS_SSH_CONNECT_TO sends ssh\.sandbox\.test:443 to 127\.0\.0\.1/);
    assert.match(text, /the origin answered: SSH-2\.0-OpenSSH/);
    assert.match(text, /permit-port-forwarding/);
    assert.match(text, /the remote account is \\"jdoe\\"/);
    assert.match(text, /offered .*ssh\.sandbox\.test-cf_key-cert\.pub ECDSA-CERT/);
    assert.match(text, /ProxyCommand .*access-ssh\.js ssh --hostname %h --non-interactive \(.*config:\d+\)/, 'the line that sets it');
    assertNoSecret(d.run.stdout + d.run.stderr);
  });

  it('text report: one line per step with its time, and "The whole chain works."', async () => {
    const c = await signedIn();
    const r = await c.helper(['doctor', '--hostname', APP, '--config', c.config, '--non-interactive']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^\[ok\] {3}name resolution +\d+ ms$/m);
    assert.match(r.stdout, /^\[skip\] proxy/m);
    assert.match(r.stdout, /^\[ok\] {3}ssh \(BatchMode\) +\d+ ms$/m);
    assert.match(r.stdout, /The whole chain works\.\n$/);
  });

  it('signed out, --non-interactive: "tokens" fails naming the sign-in, no browser, exit 1', async () => {
    const c = fresh();
    const d = await doctor(c, ['--non-interactive']);
    assertFailsAt(
      d,
      'tokens',
      /Signed out: no live app token .* and no team session/,
      /Access: Sign In.*login https:\/\/ssh\.sandbox\.test/,
    );
    assert.equal(c.browserOpens(), 0, 'no browser');
    assert.equal(status(d.report)['cert_sign'], 'skipped');
    assert.equal(status(d.report)['ssh_config'], 'passed', 'independent steps still run');
  });

  it('signed out, interactive: the browser login runs and the chain works', async () => {
    const c = fresh();
    const d = await doctor(c);
    assert.equal(d.run.code, 0, JSON.stringify(d.report, null, 1));
    assert.equal(c.browserOpens(), 1);
    assert.match(JSON.stringify(d.report.steps.find((s) => s.id === 'tokens')), /signed in in the browser/);
  });

  it('only a team session: the app token comes from the exchange (no browser)', async () => {
    const c = await signedIn();
    for (const f of readdirSync(join(c.home, '.cloudflared')))
      if (/-token$/.test(f) && !/-org-token$/.test(f)) rmSync(join(c.home, '.cloudflared', f));
    const d = await doctor(c, ['--non-interactive']);
    assert.equal(d.run.code, 0, JSON.stringify(d.report, null, 1));
    assert.match(JSON.stringify(d.report), /got a new app token from the team session/);
  });

  it('untrusted TLS (no sandbox CA): "TLS" names TLS inspection and the CA setting', async () => {
    const c = await signedIn();
    const d = await doctor(c, ['--non-interactive'], { NODE_EXTRA_CA_CERTS: '' });
    assertFailsAt(
      d,
      'tls',
      /not trusted .*issued by "Access SSH sandbox.*TLS-inspecting proxy/,
      /^If your network inspects TLS, point NODE_EXTRA_CA_CERTS at its CA's certificate/,
    );
    // The step carries the action; each front end words it (the extension names its setting).
    assert.equal(d.report.steps.find((s) => s.id === 'tls')?.action, 'trust-network-ca');
  });

  it('no Access application at the host (a name the edge serves, not an app): "app discovery" fails', async () => {
    const c = await signedIn();
    const r = await c.helper(['doctor', '--hostname', 'admin.sandbox.test', '--config', c.config, '--json', '--non-interactive']);
    const d = { run: r, report: JSON.parse(r.stdout) as DoctorReport };
    assertFailsAt(
      d,
      'discovery',
      /No Access application at admin\.sandbox\.test: HTTP 404 without a cf-access-metadata header/,
      /must be an application protected by Cloudflare Access/,
    );
  });

  const edgeFaults: Array<[string, Faults, StepId, RegExp, RegExp]> = [
    [
      'metadata 500 (twice)',
      { metadata: { status: 500, body: '<html>oops</html>', times: 2 } },
      'discovery',
      /edge failed \(HTTP 500\)/,
      /Try again/,
    ],
    [
      'metadata 403 (a WAF rule)',
      { metadata: { status: 403, body: 'forbidden' } },
      'discovery',
      /403 Forbidden without Access metadata: a WAF/,
      /Security → Events/,
    ],
    [
      'metadata signed by a foreign key',
      { metadata: { metadataJwt: 'foreign-key' } },
      'metadata',
      /failed verification against the keys of sandbox\.cloudflareaccess\.com/,
      /may not be the Cloudflare Access edge/,
    ],
    [
      'metadata naming a foreign auth_domain',
      { metadata: { metadataJwt: 'foreign-auth-domain' } },
      'metadata',
      /does not end with \.cloudflareaccess\.com/,
      /not the Cloudflare Access edge/,
    ],
    ['a JWKS of another key', { jwks: { jwks: 'other-key' } }, 'metadata', /failed verification/, /may not be the Cloudflare Access edge/],
    ['the clock 10 minutes off', { metadata: { dateOffsetSeconds: -600 } }, 'clock', /clock is (599|600|601) s ahead of the edge/, /NTP/],
    [
      'cert_sign 503 (twice)',
      { certSign: { status: 503, body: '<html>down</html>', times: 2 } },
      'cert_sign',
      /failed \(HTTP 503\)/,
      /try again in a moment/i,
    ],
    // Another principal is the edge's choice (kept; ssh logs in as it); none at all is refused.
    [
      'cert_sign answering a certificate with no principal',
      { certSign: { certificate: 'no-principal', times: 2 } },
      'cert_sign',
      /names no principal/,
      /Nothing was written/,
    ],
    [
      'a certificate without port forwarding',
      { certSign: { certificate: 'no-port-forwarding' } },
      'certificate',
      /lacks permit-port-forwarding: sshd will refuse the port forward Remote-SSH/,
      /Access administrator/,
    ],
  ];
  for (const [name, f, id, cause, next] of edgeFaults) {
    it(`edge fault, ${name}: "${id}" fails`, async () => {
      const c = await signedIn();
      fault(f);
      const d = await doctor(c, ['--non-interactive']);
      sb.setOptions({ faults: null } as never);
      assertFailsAt(d, id, cause, next);
    });
  }

  const carrierFaults: Array<[number, RegExp, RegExp]> = [
    [302, /Access refused the app token \(302 to the login\)/, /Sign in.*policy/],
    [403, /Access denied the connection \(403\)/, /allow your identity in the policy/],
    [400, /WebSockets are turned off for the zone/, /Network → WebSockets/],
    [426, /WebSockets are turned off for the zone/, /Network → WebSockets/],
    [502, /could not reach the origin \(502\): sshd is down/, /start sshd/],
    [521, /origin refused the connection \(521\)/, /start sshd/],
    [530, /no working tunnel for this host \(530/, /start the tunnel/],
  ];
  for (const [code, cause, next] of carrierFaults) {
    it(`the carrier websocket refused with ${code}: "carrier" fails, the real ssh is skipped`, async () => {
      const c = await signedIn();
      fault({ carrier: { status: code } });
      const d = await doctor(c, ['--non-interactive']);
      sb.setOptions({ faults: null } as never);
      assertFailsAt(d, 'carrier', cause, next);
      assert.equal(status(d.report)['ssh'], 'skipped');
    });
  }

  it('wrong principal: a User line ssh takes first; "certificate" names its file and line, the real ssh is refused', async () => {
    const c = await signedIn(`Host ${ALIAS}\n  User root\n\n`);
    const d = await doctor(c, ['--non-interactive']);
    assertFailsAt(
      d,
      'certificate',
      new RegExp(`for "jdoe", but ssh logs in to ${ALIAS} as "root", set by ${c.config.replace(/[.]/g, '\\.')}:2`),
      new RegExp(`change or remove ${c.config.replace(/[.]/g, '\\.')}:2`),
    );
    const ssh = d.report.steps.find((s) => s.id === 'ssh')!;
    assert.equal(ssh.status, 'failed');
    assert.match(ssh.cause ?? '', /server refused the certificate/);
  });

  it('an earlier ProxyCommand wins: "ssh config" names the line', async () => {
    const c = await signedIn(`Host ${ALIAS}\n  ProxyCommand nc %h %p\n\n`);
    const d = await doctor(c, ['--non-interactive']);
    assertFailsAt(d, 'ssh_config', /not access-ssh's .*config:2/, /Remove or move .*config:2/);
  });

  it('no Access entries in the ssh config: "ssh config" names the command that writes them', async () => {
    const c = await signedIn();
    writeFileSync(c.config, `Host *\n  User jdoe\n  UserKnownHostsFile ${c.knownHosts}\n`, { mode: 0o600 });
    const d = await doctor(c, ['--non-interactive']);
    assertFailsAt(d, 'ssh_config', /no ProxyCommand for /, new RegExp(`config add --hostname ${APP.replace(/[.]/g, '\\.')}$`));
    const step = d.report.steps.find((s) => s.id === 'ssh_config');
    assert.equal(step?.action, 'write-entries');
    assert.doesNotMatch(step?.next ?? '', /VS Code/, "the helper's words only");
  });

  it('an unknown host key: noted, never written to known_hosts, and authentication still tested', async () => {
    const c = await signedIn();
    writeFileSync(c.knownHosts, '');
    const d = await doctor(c, ['--non-interactive']);
    assert.equal(d.run.code, 0, JSON.stringify(d.report, null, 1));
    assert.match(JSON.stringify(d.report), /not in your known_hosts yet/);
    assert.equal(readFileSync(c.knownHosts, 'utf8'), '', 'known_hosts untouched');
  });

  it('no secret in any output: text and JSON, at debug level', async () => {
    const c = await signedIn();
    const text = await c.helper(['doctor', '--hostname', APP, '--config', c.config, '--loglevel', 'debug']);
    const json = await doctor(c, ['--loglevel', 'debug']);
    const secrets: string[] = [];
    for (const f of readdirSync(join(c.home, '.cloudflared'))) {
      const body = readFileSync(join(c.home, '.cloudflared', f), 'utf8');
      if (/-token$/.test(f)) secrets.push(body.trim(), ...body.trim().split('.'));
      if (/-cf_key$/.test(f)) secrets.push(...body.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')));
    }
    assert.ok(secrets.length >= 4);
    for (const out of [text.stdout, text.stderr, json.run.stdout, json.run.stderr]) {
      for (const s of secrets) assert.ok(!out.includes(s), `a secret in the output: ${s.slice(0, 12)}…`);
      assertNoSecret(out);
    }
  });

  it('sshd stopped: the carrier is answered 502 (the tunnel cannot reach the origin)', async () => {
    const c = await signedIn();
    await sb.sshd!.stop();
    const d = await doctor(c, ['--non-interactive']);
    assertFailsAt(d, 'carrier', /could not reach the origin \(502\): sshd is down/, /start sshd/);
  });
});

describe(
  'access-ssh doctor behind a CONNECT proxy (squid), the only way to the edge',
  { skip: missing ?? squidMissing() ?? proxiedMissing() },
  () => {
    const BLOCKED = 'blocked.sandbox.test';
    let px: ProxiedSandbox;
    const homes: string[] = [];
    const proxyClient = (name: string): Client => {
      const c = doctorClient(px.sb, name);
      homes.push(c.home);
      delete c.env.ACCESS_SSH_CONNECT_TO;
      Object.assign(c.env, px.env);
      return c;
    };
    const secrets = [
      PROXY_PASSWORD,
      encodeURIComponent(PROXY_PASSWORD),
      's3cr',
      Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64'),
    ];

    before(async () => {
      px = await startProxiedSandbox({ deny: [BLOCKED] });
    });
    after(async () => {
      await px?.stop();
      for (const h of homes) rmSync(h, { recursive: true, force: true });
    });

    it('through the proxy: the proxy step passes, names are left to it, the real ssh logs in; no proxy credential in the output', async () => {
      const c = proxyClient('doctor-proxy');
      const login = await c.helper(['login', `https://${APP}`]);
      assert.equal(login.code, 0, login.stderr);
      const d = await doctor(c, ['--non-interactive', '--loglevel', 'debug']);
      assert.equal(d.run.code, 0, JSON.stringify(d.report, null, 1) + d.run.stderr);
      const s = status(d.report);
      assert.equal(s['proxy'], 'passed');
      assert.equal(s['dns'], 'skipped');
      assert.equal(s['ssh'], 'passed');
      const text = JSON.stringify(d.report);
      assert.match(
        text,
        new RegExp(`http://127\\.0\\.0\\.1:${px.squid.port} \\(HTTPS_PROXY\\) opened a tunnel to ssh\\.sandbox\\.test:443`),
      );
      assert.match(text, /through the proxy http:\/\/127\.0\.0\.1:/);
      for (const out of [d.run.stdout, d.run.stderr])
        for (const x of secrets) assert.ok(!out.includes(x), `proxy credential in the output: ${x}`);
    });

    it('the proxy refuses the credentials (407): "proxy" fails naming the proxy and where its credentials go', async () => {
      const c = proxyClient('doctor-proxy-407');
      c.env.HTTPS_PROXY = px.env.HTTPS_PROXY.replace(encodeURIComponent(PROXY_PASSWORD), 'wrong');
      const d = await doctor(c, ['--non-interactive']);
      assertFailsAt(
        d,
        'proxy',
        /The proxy http:\/\/127\.0\.0\.1:\d+ \(HTTPS_PROXY\) refused the CONNECT with HTTP 407 .*: it did not accept the user name and password/,
        /Check the credentials in HTTPS_PROXY/,
      );
      assert.equal(status(d.report)['tls'], 'skipped');
      assert.ok(!d.run.stdout.includes('wrong'), 'not even a wrong password is shown');
    });

    it('the proxy denies the host (403): "proxy" fails', async () => {
      const c = proxyClient('doctor-proxy-403');
      const r = await c.helper(['doctor', '--hostname', BLOCKED, '--config', c.config, '--json', '--non-interactive']);
      const d = { run: r, report: JSON.parse(r.stdout) as DoctorReport };
      assertFailsAt(d, 'proxy', /refused the CONNECT with HTTP 403/, /policy does not allow this host; ask your network administrators/);
    });
  },
);
