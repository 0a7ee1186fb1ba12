// Shared by the hostile-input tests (unit and integration).
import assert from 'node:assert/strict';

export const RAW_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/;

/** A clear refusal: a message with no raw control character, naming the problem. */
export function assertClear(err: unknown, what: string): void {
  assert.ok(err instanceof Error, `${what}: an Error`);
  assert.ok(err.message.length > 10 && err.message.length < 600, `${what}: a message of sane length: ${err.message.length}`);
  assert.doesNotMatch(err.message, RAW_CONTROL, `${what}: no raw control character in ${JSON.stringify(err.message)}`);
  const hint = (err as { hint?: string }).hint;
  if (hint !== undefined) assert.doesNotMatch(hint, RAW_CONTROL);
}
