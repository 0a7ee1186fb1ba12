// `npm start`: the whole flow on this machine with no Cloudflare account, against the
// sandbox Access edge and a real sshd (test/sandbox/). This file only reads the options and
// runs one of the two demos; each lives in its own module under scripts/demo/:
//
//   terminal.mjs   ssh through the access-ssh helper, in a HOME of its own (.demo/home)
//   vscode.mjs     the extension in a VS Code (desktop or code-server) on the sandbox
//   common.mjs     what both share: output, the build, the sandbox, clean-up on exit
//
//   npm start                      login approved automatically (a stand-in browser)
//   npm start -- --interactive     you approve the login in a real browser
//   npm start -- --keep            keep the sandbox running afterwards to try ssh yourself
//   npm start -- --port 8443       HTTPS port of the sandbox (default: random)
//   npm start -- --no-build        skip setup, bundle and compile
//   npm start -- --vscode          start the sandbox and open the extension on it in a VS Code:
//                                  the desktop `code` when on the PATH, else code-server in a
//                                  browser (--code-server forces that); runs until Ctrl-C
//   npm start -- --vscode --dev    the same sandbox and profile for F5 (.vscode/launch.json):
//                                  prepares .demo/vscode and .demo/home, prints
//                                  "ready for F5" and runs until stopped; VS Code itself is
//                                  started by the debugger with --extensionDevelopmentPath
import { fail, StartError, stop, stopOnSignals } from './demo/common.mjs';
import { terminalDemo } from './demo/terminal.mjs';
import { vscodeDemo } from './demo/vscode.mjs';

const KNOWN = ['--interactive', '--keep', '--no-build', '--port', '--vscode', '--code-server', '--dev'];

function options(args) {
  const portAt = args.indexOf('--port');
  const forceCodeServer = args.includes('--code-server');
  const devMode = args.includes('--dev');
  return {
    interactive: args.includes('--interactive'),
    keep: args.includes('--keep'),
    noBuild: args.includes('--no-build'),
    forceCodeServer,
    devMode,
    vscode: args.includes('--vscode') || forceCodeServer || devMode,
    port: portAt >= 0 ? Number(args[portAt + 1]) : undefined,
  };
}

stopOnSignals();
try {
  const args = process.argv.slice(2);
  for (const a of args) {
    if (a.startsWith('--') && !KNOWN.includes(a)) {
      fail(`unknown option ${a} (known: --interactive, --keep, --port N, --no-build, --vscode, --code-server, --dev)`);
    }
  }
  const o = options(args);
  if (o.vscode) await vscodeDemo(o);
  else await terminalDemo(o);
} catch (err) {
  if (!(err instanceof StartError)) {
    process.stderr.write(`\nnpm start failed: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  }
} finally {
  await stop();
}
