// `doctor --hostname H [--json] [--non-interactive] [--config FILE] [--alias A]`: walk
// the chain to H step by step (src/doctor/doctor.ts) and print the report. Exit 0
// when the whole chain works, 1 when a step fails. With --non-interactive no browser
// is ever opened: a missing login is a failed step naming the sign-in.

import { boolFlag, stringFlag, UsageError, type ParsedCommand } from '../args.js';
import { parseTarget } from '../host.js';
import { createContext, loginOptions, type Runtime } from '../runtime.js';
import { validateHostname } from '../../ssh/validate.js';
import { cliWords } from '../next-step.js';

export async function run(rt: Runtime, p: ParsedCommand): Promise<number> {
  const { host } = parseTarget(stringFlag(p, 'hostname'), 'doctor');
  const json = boolFlag(p, 'json');
  const interactive = !boolFlag(p, 'non-interactive');
  const alias = stringFlag(p, 'alias') ?? `cfpipe-${host}`;
  try {
    validateHostname(alias);
  } catch {
    throw new UsageError(`--alias: ${JSON.stringify(alias.slice(0, 80))} is not a valid ssh host alias.`, 'doctor');
  }
  const configFile = stringFlag(p, 'config');
  const [ctx, { runDoctor }, { renderJson, renderText }] = await Promise.all([
    createContext(rt),
    import('../../doctor/doctor.js'),
    import('../../doctor/report.js'),
  ]);
  const report = await runDoctor({
    host,
    ctx,
    login: loginOptions(rt, interactive),
    env: { ...rt.env },
    alias,
    ...(configFile ? { sshConfigFile: configFile } : {}),
    ...(!json ? { onStep: (s) => rt.stderr.write(`  ${s.title}: ${s.status}\n`) } : {}),
  });
  const words = cliWords({ env: rt.env, self: rt.self, platform: rt.platform });
  rt.stdout.write(json ? renderJson(report, words) : renderText(report, words));
  return report.ok ? 0 : 1;
}
