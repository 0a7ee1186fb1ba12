// Keeps the Access session visible and the hosts honest in the background:
// a warning some minutes before a team's session ends (one click renews it in
// the browser), and a check of every host whose team is not known yet (a host
// added by editing settings): an Access application of a signed-in team shows
// as signed in, a host that is no Access application shows its error on its row.

import { type Disposable, window as vscodeWindow } from 'vscode';
import { every, realClock, type Clock } from '../hosts/renewal.js';
import { sessionsEndingSoon, teamPhrase } from '../hosts/state.js';
import type { Services } from './connect.js';
import { failureOf } from './log.js';

/** Warn this long before a team session ends. */
export const WARN_SECONDS = 10 * 60;
/** How often the sessions' ends are looked at. */
export const WARN_CHECK_EVERY_MS = 30_000;
/** The check of hosts whose team is unknown waits this long (off the activation path; a burst of changes is one check). */
export const CHECK_UNKNOWN_AFTER_MS = 1500;

export class SessionWatch implements Disposable {
  private readonly warned = new Set<string>();
  private readonly timer: { dispose(): void };
  private checkTimer: unknown;
  private readonly checked = new Set<string>();

  constructor(
    private readonly svc: Services,
    private readonly clock: Clock = realClock,
  ) {
    this.timer = every(clock, WARN_CHECK_EVERY_MS, () => this.warnEndingSessions());
  }

  private warnEndingSessions(): void {
    const now = this.clock.now() / 1000;
    for (const t of sessionsEndingSoon(this.svc.state.teams(), now, WARN_SECONDS, this.warned)) {
      this.warned.add(t.key);
      const minutes = Math.max(1, Math.round((t.exp - now) / 60));
      const host = this.svc.registry.allHosts.find((h) => this.svc.state.teamOf(h.hostname) === t.authDomain)?.hostname;
      this.svc.log.info(`The Access session of team ${t.authDomain} ends in ${minutes} min`);
      void vscodeWindow
        .showWarningMessage(
          `Your Cloudflare Access session (${teamPhrase(t.authDomain)}) ends in ${minutes} min. Renew it to keep connecting without interruption.`,
          ...(host ? ['Renew Session'] : []),
        )
        .then((c) => (c === 'Renew Session' && host ? this.svc.auth.signInFlow?.(host) : undefined));
    }
  }

  /** Soon (off the activation path): the team of each host not known yet. */
  checkUnknownHostsSoon(): void {
    if (this.checkTimer !== undefined) this.clock.clearTimeout(this.checkTimer);
    this.checkTimer = this.clock.setTimeout(() => {
      this.checkTimer = undefined;
      void this.checkUnknownHosts();
    }, CHECK_UNKNOWN_AFTER_MS);
  }

  private async checkUnknownHosts(): Promise<void> {
    for (const h of this.svc.registry.allHosts) {
      const host = h.hostname;
      if (this.checked.has(host) || this.svc.state.teamOf(host) !== undefined || this.svc.state.input(host).appToken) continue;
      this.checked.add(host);
      try {
        const info = await this.svc.access.discover(host);
        await this.svc.state.rememberTeam(host, info.authDomain);
        this.svc.log.info(`${host} is an Access application of team ${info.authDomain}`);
      } catch (err) {
        const failure = failureOf(host, err);
        this.svc.log.warn(`Checking ${host}: ${failure.detail.replace(/\s*\n\s*/g, ' ')}`);
        this.svc.state.setError(host, failure);
      }
    }
  }

  dispose(): void {
    this.timer.dispose();
    if (this.checkTimer !== undefined) this.clock.clearTimeout(this.checkTimer);
  }
}
