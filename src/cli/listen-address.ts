// `--url` of `ssh`/`tcp` (cloudflared's validation.ValidateUrl as the forwarder uses
// it): `[scheme://]host:port[/path]` with a scheme among cloudflared's (http, https,
// rdp, ssh, smb, tcp); the listener binds host:port. A port is required (cloudflared
// fails later, in net.Listen); port 0 asks for a free one, which is then logged.

import { isIP } from 'node:net';
import { showValue } from '../base/display.js';
import { parseHostname } from '../ssh/validate.js';
import { UsageError } from './args.js';

export interface ListenTarget {
  readonly host: string;
  readonly port: number;
  /** Anything but a loopback address: others on the network could use the listener (and our Access identity). */
  readonly exposed: boolean;
}

const SCHEMES = new Set(['http', 'https', 'rdp', 'ssh', 'smb', 'tcp']);

const shown = (v: string): string => showValue(v, 80);

function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || h === '0:0:0:0:0:0:0:1';
}

export function parseListenAddress(value: string, command: string): ListenTarget {
  const raw = value.trim();
  if (raw === '') throw new UsageError('--url is empty.', command);
  let rest = raw;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest);
  if (scheme) {
    if (!SCHEMES.has(scheme[1]!.toLowerCase())) {
      throw new UsageError(
        `--url: the ${scheme[1]} scheme is not one cloudflared accepts (tcp, ssh, rdp, smb, http, https); give host:port.`,
        command,
      );
    }
    rest = rest.slice(scheme[0].length);
  }
  rest = rest.replace(/\/.*$/, '');
  let host: string;
  let port: string | undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(.*))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    port = v6[2];
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0 || rest.indexOf(':') !== colon) {
      if (rest.includes(':')) throw new UsageError(`--url: ${shown(raw)}: put an IPv6 address in brackets, as [::1]:port.`, command);
      host = rest;
      port = undefined;
    } else {
      host = rest.slice(0, colon);
      port = rest.slice(colon + 1);
    }
  }
  if (port === undefined || port === '')
    throw new UsageError(`--url: ${shown(raw)} has no port; give host:port, such as 127.0.0.1:5432.`, command);
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
    throw new UsageError(`--url: ${shown(port)} is not a port number (0-65535).`, command);
  if (host === '')
    throw new UsageError(`--url: ${shown(raw)} has no host; give the local address to listen on, such as 127.0.0.1:${port}.`, command);
  const ipv6 = v6 !== null;
  if (ipv6 ? isIP(host) !== 6 : isIP(host) !== 4 && (parseHostname(host.replace(/\.$/, '')) === undefined || /^[\d.]+$/.test(host))) {
    throw new UsageError(`--url: ${shown(host)} is not a host name or IP address.`, command);
  }
  return { host, port: Number(port), exposed: !isLoopback(host) };
}
