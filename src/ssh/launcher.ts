// The launcher ssh runs as our helper: a small script in the extension's global
// storage that starts the bundled `dist/access-ssh.js` of the current extension
// version on VS Code's own runtime (`ELECTRON_RUN_AS_NODE=1`), with the
// settings that route the helper (`ACCESS_SSH_CONNECT_TO`, `NODE_EXTRA_CA_CERTS`).
// Rewritten on every activation, so the paths in ssh_config (which name the
// launcher, not the versioned extension folder) survive extension updates.
// With `useCloudflared`, the launcher runs `cloudflared access` instead.
// It lives in src/ssh beside the entries whose ProxyCommand and `Match exec` run it:
// it is what ssh executes, not Remote-SSH logic, and needs nothing above src/ssh.

import { shellQuote } from './quote.js';
import { SshConfigError } from './validate.js';

export interface LauncherOptions {
  readonly platform: NodeJS.Platform;
  /** The runtime: VS Code's `process.execPath` (Electron, or Node in code-server). */
  readonly execPath: string;
  /** The bundled helper, `<extension>/dist/access-ssh.js`. */
  readonly script: string;
  /** Extra environment for the helper; empty values are left out. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Run this `cloudflared` (`cloudflared access <args>`) instead of the helper. */
  readonly cloudflared?: string;
}

export interface Launcher {
  /** `access-ssh` or `access-ssh.cmd`. */
  readonly fileName: string;
  readonly content: string;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

const MOVE_HINT = 'Change the setting or the environment variable, or move the file to a path without such characters.';

function checkValue(what: string, value: string, windows: boolean): void {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new SshConfigError(`${what} contains a control character`, MOVE_HINT);
  // cmd.exe has no quoting that survives `"` or `%` inside a value.
  if (windows && /["%!^]/.test(value))
    throw new SshConfigError(`${what} contains a character (" % ! ^) a Windows launcher cannot pass safely`, MOVE_HINT);
}

export function renderLauncher(opts: LauncherOptions): Launcher {
  const windows = opts.platform === 'win32';
  const env = Object.entries(opts.env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '');
  for (const [name, value] of env) {
    if (!ENV_NAME.test(name))
      throw new SshConfigError(`bad environment variable name ${JSON.stringify(name)}`, 'Environment variable names are A-Z, 0-9 and "_".');
    checkValue(name, value, windows);
  }
  checkValue('the runtime path', opts.execPath, windows);
  checkValue('the helper path', opts.script, windows);
  if (opts.cloudflared !== undefined) checkValue('the cloudflared path', opts.cloudflared, windows);

  if (windows) {
    const lines = ['@echo off', 'setlocal'];
    for (const [name, value] of env) lines.push(`set "${name}=${value}"`);
    // How to run the helper again, for the "sign in" hint it prints.
    lines.push('set "ACCESS_SSH_LAUNCHER=%~f0"');
    if (opts.cloudflared !== undefined) {
      lines.push(`"${opts.cloudflared}" access %*`);
    } else {
      lines.push('set "ELECTRON_RUN_AS_NODE=1"');
      lines.push(`"${opts.execPath}" "${opts.script}" %*`);
    }
    lines.push('exit /b %ERRORLEVEL%');
    return { fileName: 'access-ssh.cmd', content: lines.join('\r\n') + '\r\n' };
  }

  const lines = ['#!/bin/sh', '# Written by the Access SSH extension on every start; edits are overwritten.'];
  for (const [name, value] of env) lines.push(`${name}=${shellQuote(value)}`, `export ${name}`);
  // How to run the helper again, for the "sign in" hint it prints.
  lines.push('ACCESS_SSH_LAUNCHER=$0', 'export ACCESS_SSH_LAUNCHER');
  if (opts.cloudflared !== undefined) {
    // cloudflared has no --non-interactive: drop it (it never waits for a browser in ssh-gen anyway).
    lines.push('for a do shift; case "$a" in --non-interactive|--quiet-signed-out) ;; *) set -- "$@" "$a";; esac; done');
    lines.push(`exec ${shellQuote(opts.cloudflared)} access "$@"`);
  } else {
    lines.push('ELECTRON_RUN_AS_NODE=1', 'export ELECTRON_RUN_AS_NODE');
    lines.push(`exec ${shellQuote(opts.execPath)} ${shellQuote(opts.script)} "$@"`);
  }
  return { fileName: 'access-ssh', content: lines.join('\n') + '\n' };
}
