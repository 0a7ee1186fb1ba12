// `access-ssh server-config --ca-file ca.pub [--map principal=account …]`: the
// sshd side of Cloudflare's guide as a drop-in and the script an admin runs
// (src/ssh/server-config.ts renders both).

import { promises as fs } from 'node:fs';
import { AccessError } from '../../access/errors.js';
import { parseMap, renderServerConfig } from '../../ssh/server-config.js';
import { SshConfigError } from '../../ssh/validate.js';
import { boolFlag, listFlag, stringFlag, UsageError, type ParsedCommand } from '../args.js';
import type { Runtime } from '../runtime.js';

function usage(err: unknown): never {
  if (err instanceof SshConfigError) throw new UsageError(`${err.message} ${err.hint}`, 'server-config');
  throw err;
}

export async function run(rt: Runtime, p: ParsedCommand): Promise<number> {
  const caFile = stringFlag(p, 'ca-file');
  if (caFile === undefined) throw new UsageError('--ca-file is required: the Access SSH CA public key (ca.pub).', 'server-config');
  let caText: string;
  try {
    const st = await fs.stat(caFile);
    if (!st.isFile() || st.size > 64 * 1024) throw new Error('not a small regular file');
    caText = await fs.readFile(caFile, 'utf8');
  } catch (err) {
    throw new AccessError('config', `Cannot read the CA key ${caFile}: ${(err as Error).message}.`, {
      hint: 'Save the SSH CA public key of your Access account to a file (one line "ecdsa-sha2-nistp256 AAAA…") and pass it with --ca-file.',
    });
  }
  let maps;
  try {
    maps = listFlag(p, 'map').map(parseMap);
  } catch (err) {
    usage(err);
  }
  let out;
  try {
    const caPath = stringFlag(p, 'ca-path');
    const principalsDir = stringFlag(p, 'principals-dir');
    const dropInPath = stringFlag(p, 'drop-in');
    const sshdConfig = stringFlag(p, 'sshd-config');
    out = renderServerConfig({
      caPublicKey: caText,
      maps,
      ...(caPath === undefined ? {} : { caPath }),
      ...(principalsDir === undefined ? {} : { principalsDir }),
      ...(dropInPath === undefined ? {} : { dropInPath }),
      ...(sshdConfig === undefined ? {} : { sshdConfig }),
    });
  } catch (err) {
    if (err instanceof SshConfigError) throw new AccessError('config', err.message, { hint: err.hint });
    throw err;
  }
  if (boolFlag(p, 'json')) {
    rt.stdout.write(
      JSON.stringify({ files: out.files.map((f) => ({ ...f, mode: f.mode.toString(8) })), script: out.script }, null, 2) + '\n',
    );
  } else {
    rt.stdout.write(out.script);
    rt.stderr.write(`Run the script above as root on the server (access-ssh server-config … > setup.sh; sudo sh setup.sh).\n`);
  }
  return 0;
}
