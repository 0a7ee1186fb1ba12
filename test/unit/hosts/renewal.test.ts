import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../support/clock.js';
import {
  MIN_DELAY_AFTER_RENEWAL_MS,
  MIN_DELAY_MS,
  RETRY_AFTER_FAILURE_MS,
  RenewalScheduler,
  renewalDelayMs,
} from '../../../src/hosts/renewal.js';

test('renewal is due at validBefore − margin, never sooner than the minimum', () => {
  const now = 1_000_000;
  assert.equal(renewalDelayMs(now / 1000 + 180, 60, now), 120_000);
  assert.equal(renewalDelayMs(now / 1000 + 30, 60, now), MIN_DELAY_MS, 'inside the margin: at once');
  assert.equal(renewalDelayMs(undefined, 60, now), MIN_DELAY_MS, 'no certificate: at once');
  assert.equal(renewalDelayMs(now / 1000 + 30, 60, now, 30_000), 30_000);
});

test('the scheduler renews at the margin, then waits for the new certificate', async () => {
  const clock = new FakeClock();
  let validBefore: number | undefined = clock.now() / 1000 + 180;
  let renewals = 0;
  const s = new RenewalScheduler({
    clock,
    validBefore: () => validBefore,
    marginSeconds: () => 60,
    renew: () => {
      renewals++;
      validBefore = clock.now() / 1000 + 180;
      return Promise.resolve(true);
    },
    onFailure: () => assert.fail('no failure expected'),
  });
  s.reschedule();
  assert.deepEqual(clock.pending(), [120_000]);
  await clock.advance(119_999);
  assert.equal(renewals, 0);
  await clock.advance(1);
  assert.equal(renewals, 1);
  assert.deepEqual(clock.pending(), [120_000], 're-armed for the new certificate');
  await clock.advance(10 * 60_000);
  assert.equal(renewals, 6, 'one renewal per 2 minutes over 10 minutes');
  s.dispose();
  assert.deepEqual(clock.pending(), []);
});

test('an edge that issues certificates shorter than the margin is not asked in a loop', async () => {
  const clock = new FakeClock();
  let renewals = 0;
  const s = new RenewalScheduler({
    clock,
    validBefore: () => clock.now() / 1000 + 10,
    marginSeconds: () => 60,
    renew: () => Promise.resolve(++renewals > 0),
    onFailure: () => assert.fail('no failure expected'),
  });
  s.reschedule();
  await clock.advance(60_000);
  assert.equal(renewals, 2, 'at once, then after the 30 s floor, and so on');
  assert.deepEqual(clock.pending(), [MIN_DELAY_AFTER_RENEWAL_MS - 29_000]);
  s.dispose();
});

test('a failed renewal is reported and retried a minute later; a cancelled one is not retried', async () => {
  const clock = new FakeClock();
  const failures: unknown[] = [];
  let outcome: 'fail' | 'cancel' = 'fail';
  const s = new RenewalScheduler({
    clock,
    validBefore: () => undefined,
    marginSeconds: () => 60,
    renew: () => (outcome === 'fail' ? Promise.reject(new Error('edge down')) : Promise.resolve(false)),
    onFailure: (err) => failures.push(err),
  });
  s.reschedule();
  await clock.advance(MIN_DELAY_MS);
  assert.equal(failures.length, 1);
  assert.deepEqual(clock.pending(), [RETRY_AFTER_FAILURE_MS]);
  outcome = 'cancel';
  await clock.advance(RETRY_AFTER_FAILURE_MS);
  assert.equal(failures.length, 1, 'a cancellation is no failure');
  assert.deepEqual(clock.pending(), [], 'and nothing is armed until the state changes');
  s.reschedule();
  assert.deepEqual(clock.pending(), [MIN_DELAY_MS]);
  s.dispose();
});

test('a state change re-arms one timer, never a second', () => {
  const clock = new FakeClock();
  const s = new RenewalScheduler({
    clock,
    validBefore: () => clock.now() / 1000 + 300,
    marginSeconds: () => 60,
    renew: () => Promise.resolve(true),
    onFailure: () => {},
  });
  for (let i = 0; i < 5; i++) s.reschedule();
  assert.deepEqual(clock.pending(), [240_000]);
  s.dispose();
  s.reschedule();
  assert.deepEqual(clock.pending(), [], 'nothing after dispose');
});

test('a renewal that fails after the scheduler is disposed is not reported or retried', async () => {
  const clock = new FakeClock();
  let fail: (err: Error) => void = () => undefined;
  const failures: unknown[] = [];
  const s = new RenewalScheduler({
    clock,
    validBefore: () => undefined,
    marginSeconds: () => 60,
    renew: () => new Promise<boolean>((_resolve, reject) => (fail = reject)),
    onFailure: (err) => failures.push(err),
  });
  s.reschedule();
  await clock.advance(MIN_DELAY_MS);
  s.dispose();
  fail(new Error('the window closed'));
  await clock.advance(RETRY_AFTER_FAILURE_MS * 2);
  assert.deepEqual(failures, []);
  assert.deepEqual(clock.pending(), []);
});
