// What the end-to-end tests share: a client HOME with an ssh config that runs the
// access-ssh helper (Match exec ssh-gen + ProxyCommand ssh), the fake browser as
// $BROWSER, and a runner for the real `ssh`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Faults, Sandbox } from '../sandbox/sandbox';
import type { Counters } from '../sandbox/state';
import { runProcess, type RunResult } from '../support/process';
import { ROOT } from '../support/root';
import { sshArgs } from '../support/ssh-args';
import { hostname } from '../support/hostname';

export { ROOT } from '../support/root';
export { runProcess, type RunResult } from '../support/process';
export const HELPER = join(ROOT, 'dist', 'access-ssh.js');
export const BROWSER_SH = join(ROOT, 'test', 'sandbox', 'browser.sh');
export const APP = hostname('ssh.sandbox.test');

export function helperMissing(): string | undefined {
  if (!existsSync(HELPER)) return `${HELPER} is missing: build it with node scripts/build.mjs`;
  if (!existsSync(join(ROOT, 'out', 'test', 'sandbox', 'fake-browser.js'))) return 'the sandbox is not compiled: npx tsc -p .';
  return undefined;
}

export interface Client {
  home: string;
  config: string;
  knownHosts: string;
  keyFile: string;
  certFile: string;
  browserLog: string;
  env: NodeJS.ProcessEnv;
  /** Opens of the login page by $BROWSER so far. */
  browserOpens(): number;
  /** `ssh -F config -o BatchMode=yes … <host> <command>`. */
  ssh(command?: string[], opts?: { extraArgs?: string[]; env?: NodeJS.ProcessEnv; host?: string; timeoutMs?: number }): Promise<RunResult>;
  /** The helper itself with this HOME. */
  helper(args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult>;
}

export interface ClientOptions {
  /** Extra words after `ssh --hostname %h` in the ProxyCommand. */
  proxyArgs?: string[];
  /** Leave out the Match exec ssh-gen line. */
  noMatchExec?: boolean;
  /** Write this config text instead (%HOME% replaced). */
  configText?: string;
}

export function makeClient(sb: Sandbox, name: string, opts: ClientOptions = {}): Client {
  const home = mkdtempSync(join(tmpdir(), `access-ssh-e2e-${name}-`));
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  const config = join(home, '.ssh', 'config');
  const knownHosts = join(home, '.ssh', 'known_hosts');
  const keyFile = join(home, '.cloudflared', `${APP}-cf_key`);
  const certFile = `${keyFile}-cert.pub`;
  const browserLog = join(home, 'browser.log');
  const node = process.execPath;
  const proxy = [node, HELPER, 'ssh', '--hostname', '%h', ...(opts.proxyArgs ?? [])].join(' ');
  const text =
    opts.configText?.replace(/%HOME%/g, home) ??
    [
      opts.noMatchExec ? '' : `Match host ${APP} exec "${node} ${HELPER} ssh-gen --hostname %h"`,
      '',
      `Host ${APP}`,
      `  ProxyCommand ${proxy}`,
      `  IdentityFile ${keyFile}`,
      `  CertificateFile ${certFile}`,
      `  IdentitiesOnly yes`,
      `  User jdoe`,
      '',
    ].join('\n');
  writeFileSync(config, text, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    LANG: 'C',
    ...sb.env,
    BROWSER: BROWSER_SH,
    FAKE_BROWSER_LOG: browserLog,
  };
  const client: Client = {
    home,
    config,
    knownHosts,
    keyFile,
    certFile,
    browserLog,
    env,
    browserOpens: () => (existsSync(browserLog) ? readFileSync(browserLog, 'utf8').split('\n').filter(Boolean).length : 0),
    ssh(command = ['whoami'], o = {}) {
      return runProcess(
        'ssh',
        sshArgs({
          config,
          knownHosts,
          strictHostKeyChecking: 'accept-new',
          connectTimeout: 30,
          extra: o.extraArgs ?? [],
          destination: o.host ?? APP,
          command,
        }),
        { ...env, ...o.env },
        o.timeoutMs,
      );
    },
    helper(args, e = {}) {
      return runProcess(node, [HELPER, ...args], { ...env, ...e });
    },
  };
  return client;
}

/**
 * Clients for a suite whose cases inject faults: `fresh()` clears any fault the previous case
 * left and makes a new HOME (extra `env` merged in), `primed()` is also signed in with a valid
 * certificate, `fault(f)` sets exactly `f`. `removeHomes()` goes in the suite's `after`.
 */
export function faultClients(sandbox: () => Sandbox, prefix: string) {
  const homes: string[] = [];
  let n = 0;
  const fault = (f: Faults | null): void => {
    sandbox().setOptions({ faults: null } as never);
    if (f) sandbox().setOptions({ faults: f });
  };
  const fresh = (env: NodeJS.ProcessEnv = {}): Client => {
    fault(null);
    const c = makeClient(sandbox(), `${prefix}${n++}`);
    Object.assign(c.env, env);
    homes.push(c.home);
    return c;
  };
  const primed = async (): Promise<Client> => {
    const c = fresh();
    const r = await c.helper(['ssh-gen', '--hostname', APP]);
    if (r.code !== 0) throw new Error(`ssh-gen for a primed client exited with ${r.code}: ${r.stderr}`);
    return c;
  };
  const removeHomes = (): void => {
    for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
  };
  return { fresh, primed, fault, removeHomes };
}

/** Counter differences since `before`. */
export function delta(sb: Sandbox, before: Counters): Counters {
  const out = { ...sb.counters };
  for (const k of Object.keys(out) as (keyof Counters)[]) out[k] = sb.counters[k] - before[k];
  return out;
}

export function snapshot(sb: Sandbox): Counters {
  return { ...sb.counters };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Explains a failed ssh run: its stderr and the tail of the sshd log. */
export function explain(r: RunResult, sb: Sandbox): string {
  return `exit ${r.code}\n--- ssh stderr ---\n${r.stderr.slice(-3000)}\n--- sshd log ---\n${(sb.sshd?.log() ?? '').split('\n').slice(-12).join('\n')}`;
}
