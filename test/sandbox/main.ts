// Standalone sandbox: `node out/test/sandbox/main.js [options]` starts the local Access
// edge and sshd, prints the client environment, and runs until Ctrl-C.
//   --port N              HTTPS port on 127.0.0.1 (default: random)
//   --interactive         show the login form instead of approving at once
//   --auto-approve EMAIL  approve logins at once as EMAIL
//   --cert-ttl S          certificate validity in seconds (default 180)
//   --app-token-ttl S, --org-token-ttl S
//   --service-token ID:SECRET   accept this service token on the carrier (repeatable)
//   --empty-200-polls     "not yet" transfer polls answer 200 with an empty body
//   --no-org-token        logins hand over the app token alone
//   --cert-principal U    certificates for account U (the sshd gets that user too)
//   --bypass HOST         HOST is under a Bypass policy (repeatable)
//   --fedramp-host HOST   HOST belongs to the FedRAMP team (repeatable)
//   --no-sshd             edge only
//   --env-file FILE       also write the environment (KEY=VALUE lines) to FILE
//   --json                print one JSON line instead of the shell lines
import { writeFileSync } from 'node:fs';
import { startSandbox, type ServiceToken, type StartSandboxOptions } from './sandbox';

function parseArgs(argv: string[]): { opts: StartSandboxOptions; envFile?: string | undefined; json: boolean } {
  const opts: StartSandboxOptions = {};
  const serviceTokens: ServiceToken[] = [];
  let envFile: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const seconds = () => {
      const n = Number(next());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${a} needs a positive number of seconds`);
      return n;
    };
    switch (a) {
      case '--port':
        opts.port = Number(next());
        break;
      case '--interactive':
        opts.autoApprove = false;
        break;
      case '--auto-approve':
        opts.autoApprove = next();
        break;
      case '--cert-ttl':
        opts.certTtlSeconds = seconds();
        break;
      case '--app-token-ttl':
        opts.appTokenTtlSeconds = seconds();
        break;
      case '--org-token-ttl':
        opts.orgTokenTtlSeconds = seconds();
        break;
      case '--service-token': {
        const v = next();
        const i2 = v.indexOf(':');
        if (i2 <= 0) throw new Error('--service-token needs ID:SECRET');
        serviceTokens.push({ clientId: v.slice(0, i2), clientSecret: v.slice(i2 + 1) });
        break;
      }
      case '--empty-200-polls':
        opts.transferPending = 'empty-200';
        break;
      case '--no-org-token':
        opts.sendOrgToken = false;
        break;
      case '--cert-principal': {
        const u = next();
        opts.certPrincipal = u;
        opts.users = [...new Set([...(opts.users ?? ['jdoe']), u])];
        break;
      }
      case '--bypass':
        opts.bypassHosts = [...(opts.bypassHosts ?? []), next()];
        break;
      case '--fedramp-host':
        opts.fedrampHosts = [...(opts.fedrampHosts ?? []), next()];
        break;
      case '--no-sshd':
        opts.sshd = false;
        break;
      case '--env-file':
        envFile = next();
        break;
      case '--json':
        json = true;
        break;
      case '-h':
      case '--help':
        process.stdout.write(
          'usage: node out/test/sandbox/main.js [--port N] [--interactive] [--auto-approve EMAIL] [--cert-ttl S] [--app-token-ttl S] [--org-token-ttl S] [--service-token ID:SECRET] [--empty-200-polls] [--no-org-token] [--cert-principal U] [--bypass HOST] [--fedramp-host HOST] [--no-sshd] [--env-file FILE] [--json]\n',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  if (serviceTokens.length) opts.serviceTokens = serviceTokens;
  return { opts, envFile, json };
}

async function main(): Promise<void> {
  const { opts, envFile, json } = parseArgs(process.argv.slice(2));
  const sb = await startSandbox(opts);
  const info = {
    ...sb.env,
    port: sb.port,
    sshdPort: sb.sshd?.port ?? null,
    knownHostsLine: sb.knownHostsLine ?? null,
    sshCaPublicKeyFile: sb.sshCaPublicKeyFile,
    app: sb.appHost,
    admin: 'https://admin.sandbox.test/counters',
  };
  if (envFile)
    writeFileSync(
      envFile,
      Object.entries(sb.env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
  if (json) process.stdout.write(JSON.stringify(info) + '\n');
  else {
    process.stdout.write(
      [
        `export ACCESS_SSH_CONNECT_TO=${sb.env.ACCESS_SSH_CONNECT_TO}`,
        `export NODE_EXTRA_CA_CERTS=${sb.env.NODE_EXTRA_CA_CERTS}`,
        `# Access app: https://${sb.appHost}  (any *.sandbox.test host is an app)`,
        `# sshd: 127.0.0.1:${sb.sshd?.port ?? '-'} trusting ${sb.sshCaPublicKeyFile}`,
        `# known_hosts: ${sb.knownHostsLine ?? '-'}`,
        `# admin: curl --cacert ${sb.caFile} --connect-to ::127.0.0.1:${sb.port} https://admin.sandbox.test/counters`,
        `# login is ${opts.autoApprove === false ? 'by form (open the URL in a browser that trusts the CA above)' : 'auto-approved'}; Ctrl-C stops`,
        '',
      ].join('\n'),
    );
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    sb.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`sandbox: ${err.message}\n`);
  process.exit(1);
});
