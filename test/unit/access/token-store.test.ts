import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TokenStore } from '../../../src/access/token-store.js';
import { defaultConfigDir } from '../../../src/access/paths.js';
import { APP_HOST, AUD, TEAM, appToken, orgToken } from './edge.js';
import { nowSeconds } from './helpers.js';
import { tempDir } from '../../support/tmp.js';

const app = { authDomain: TEAM, appAud: AUD, appHostname: APP_HOST };
const appFile = (dir: string): string => path.join(dir, `${APP_HOST}-${AUD}-token`);
const orgFile = (dir: string): string => path.join(dir, `${TEAM}-org-token`);

test('default directory is ~/.cloudflared', () => {
  assert.equal(new TokenStore().dir, defaultConfigDir());
});

test('write: atomic, file 0600, directory created 0700; read back', async (t) => {
  const dir = path.join(tempDir(t), '.cloudflared');
  const store = new TokenStore(dir);
  const tok = appToken();
  await store.writeAppToken(app, tok);
  await store.writeOrgToken(TEAM, orgToken());
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  assert.equal(fs.statSync(appFile(dir)).mode & 0o777, 0o600);
  assert.equal(fs.statSync(orgFile(dir)).mode & 0o777, 0o600);
  assert.equal(fs.readFileSync(appFile(dir), 'utf8'), tok);
  assert.deepEqual(fs.readdirSync(dir).sort(), [`${APP_HOST}-${AUD}-token`, `${TEAM}-org-token`].sort());
  assert.equal(await store.readAppToken(app), tok);
  assert.ok(await store.readOrgToken(TEAM));
  // Overwrite keeps 0600 even if the old file was looser.
  fs.chmodSync(appFile(dir), 0o644);
  await store.writeAppToken(app, tok);
  assert.equal(fs.statSync(appFile(dir)).mode & 0o777, 0o600);
});

test('a cloudflared-written token with a trailing newline is read', async (t) => {
  const dir = tempDir(t);
  const tok = appToken();
  fs.writeFileSync(appFile(dir), `${tok}\n`);
  assert.equal(await new TokenStore(dir).readAppToken(app), tok);
});

test('expired app token is deleted', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(appFile(dir), appToken({ exp: nowSeconds() - 10 }));
  assert.equal(await new TokenStore(dir).readAppToken(app), undefined);
  assert.ok(!fs.existsSync(appFile(dir)));
});

test('app token whose aud lacks the app AUD is deleted; aud string accepted', async (t) => {
  const dir = tempDir(t);
  const store = new TokenStore(dir);
  fs.writeFileSync(appFile(dir), appToken({ aud: ['other-aud'] }));
  assert.equal(await store.readAppToken(app), undefined);
  assert.ok(!fs.existsSync(appFile(dir)));
  fs.writeFileSync(appFile(dir), appToken({ aud: AUD }));
  assert.ok(await store.readAppToken(app));
  fs.writeFileSync(appFile(dir), appToken({ aud: ['x', AUD] }));
  assert.ok(await store.readAppToken(app));
});

test('undecodable tokens are deleted', async (t) => {
  const dir = tempDir(t);
  const store = new TokenStore(dir);
  fs.writeFileSync(appFile(dir), 'garbage');
  fs.writeFileSync(orgFile(dir), '');
  assert.equal(await store.readAppToken(app), undefined);
  assert.equal(await store.readOrgToken(TEAM), undefined);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('expired org token is deleted; missing files are just absent', async (t) => {
  const dir = tempDir(t);
  const store = new TokenStore(dir);
  assert.equal(await store.readOrgToken(TEAM), undefined);
  assert.equal(await store.readAppToken(app), undefined);
  fs.writeFileSync(orgFile(dir), orgToken({ exp: nowSeconds() - 1 }));
  assert.equal(await store.readOrgToken(TEAM), undefined);
  assert.ok(!fs.existsSync(orgFile(dir)));
});

test('delete', async (t) => {
  const dir = tempDir(t);
  const store = new TokenStore(dir);
  await store.writeAppToken(app, appToken());
  await store.writeOrgToken(TEAM, orgToken());
  await store.deleteAppToken(app);
  await store.deleteOrgToken(TEAM);
  await store.deleteOrgToken(TEAM); // idempotent
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('list: tokens parsed from names, other files skipped', async (t) => {
  const dir = tempDir(t);
  const store = new TokenStore(dir);
  const exp = nowSeconds() + 100;
  fs.writeFileSync(appFile(dir), appToken({ exp }));
  fs.writeFileSync(
    path.join(dir, `my-dashed-host.example.com-${AUD}-token`),
    appToken({ iss: 'https://other.cloudflareaccess.com', email: 'x@y.z' }),
  );
  fs.writeFileSync(path.join(dir, `-.wild.example.com-abc123-token`), appToken({ aud: 'abc123' }));
  fs.writeFileSync(orgFile(dir), orgToken({ exp }));
  for (const junk of [
    `${appFile(dir)}.lock`,
    `${appFile(dir)}.url`,
    path.join(dir, `${APP_HOST}-cf_key`),
    path.join(dir, `${APP_HOST}-cf_key.pub`),
    path.join(dir, `${APP_HOST}-cf_key-cert.pub`),
    path.join(dir, 'config.yml'),
    path.join(dir, 'broken-token'),
    path.join(dir, `.${TEAM}-org-token.1.tmp`),
  ]) {
    fs.writeFileSync(junk, junk.endsWith('broken-token') ? 'not a jwt' : 'x');
  }
  const apps = await store.listAppTokens();
  assert.deepEqual(
    apps.map((a) => [a.appHostname, a.aud]).sort(),
    [
      ['-.wild.example.com', 'abc123'],
      ['my-dashed-host.example.com', AUD],
      [APP_HOST, AUD],
    ].sort(),
  );
  const main = apps.find((a) => a.appHostname === APP_HOST)!;
  assert.equal(main.email, 'jdoe@example.com');
  assert.equal(main.issuer, `https://${TEAM}`);
  assert.equal(main.expiresAt.getTime(), exp * 1000);
  assert.equal(main.file, appFile(dir));
  const orgs = await store.listOrgTokens();
  assert.deepEqual(orgs, [{ authDomain: TEAM, email: 'jdoe@example.com', expiresAt: new Date(exp * 1000), file: orgFile(dir) }]);
  assert.deepEqual(await new TokenStore(path.join(dir, 'missing')).listAppTokens(), []);
});
