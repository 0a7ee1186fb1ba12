// Access tokens as the sandbox edge issues and checks them: RS256 JWTs signed by the
// team key, app tokens with aud [<app aud>], org tokens with aud [<team aud>].
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { appAud, COMMERCIAL_TEAM, randomId, teamByDomain, type SandboxState, type Team } from './state';
import type { TeamKeys } from './team-keys';

export interface AccessClaims extends JWTPayload {
  email: string;
  type: 'app' | 'org';
}

function subjectFor(email: string): string {
  // A stable UUID-shaped user id per identity, as Access's `sub`.
  const h = createHash('sha256').update(email.toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class TokenMint {
  constructor(
    private readonly keys: TeamKeys,
    private readonly state: SandboxState,
  ) {}

  private async mint(kind: 'app' | 'org', aud: string, email: string, ttlSeconds: number, team: Team): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const token = await this.keys.sign({
      aud: [aud],
      email,
      exp: now + ttlSeconds,
      iat: now,
      nbf: now,
      iss: team.issuer,
      type: kind,
      identity_nonce: randomId(8),
      sub: subjectFor(email),
      country: 'XX',
    });
    this.state.recordIssued(kind, token);
    return token;
  }

  /** An app token, issued by the app's team. */
  appToken(host: string, email: string): Promise<string> {
    return this.mint('app', appAud(host), email, this.state.options.appTokenTtlSeconds, this.state.teamOf(host));
  }

  orgToken(email: string, team: Team = COMMERCIAL_TEAM): Promise<string> {
    return this.mint('org', team.aud, email, this.state.options.orgTokenTtlSeconds, team);
  }

  /**
   * Checks a token the way the edge does: signature, issuer (the app's team, or the team
   * asked for), expiry, audience, kind and revocation. Resolves with the claims or
   * rejects with a reason.
   */
  async check(token: string, want: { kind: 'app'; host?: string; team?: Team } | { kind: 'org'; team?: Team }): Promise<AccessClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await this.keys.verify(token));
    } catch (err) {
      throw new Error(`invalid token: ${(err as Error).message}`, { cause: err });
    }
    const claims = payload as AccessClaims;
    const team =
      want.team ??
      (want.kind === 'app' && want.host !== undefined
        ? this.state.teamOf(want.host)
        : teamByDomain(new URL(String(claims.iss ?? 'https://x.invalid')).hostname));
    if (!team || claims.iss !== team.issuer)
      throw new Error(`token issuer ${String(claims.iss)} is not ${team?.issuer ?? 'a sandbox team'}`);
    if (claims.type !== want.kind) throw new Error(`expected an ${want.kind} token, got ${String(claims.type)}`);
    const auds = Array.isArray(claims.aud) ? claims.aud : claims.aud ? [claims.aud] : [];
    if (want.kind === 'org') {
      if (!auds.includes(team.aud)) throw new Error(`org token is not for ${team.domain}`);
    } else if (want.host !== undefined && !auds.includes(appAud(want.host))) {
      throw new Error(`token audience does not include the application ${want.host}`);
    }
    if (typeof claims.email !== 'string' || !claims.email.includes('@')) throw new Error('token has no e-mail');
    if (this.state.isRevoked(token)) throw new Error('token has been revoked');
    return claims;
  }
}
