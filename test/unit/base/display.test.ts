// The one safe display (issue 11, item 6): whatever the edge or the environment sends,
// what is shown has no raw control, separator or bidi character, and is capped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayText, escapeUnsafeForDisplay, hasUnsafeForDisplay, showValue } from '../../../src/base/display.js';

const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const HOSTILE = [
  'jdoe@example.com\u001b[2J',
  '\u001b]0;title\u0007',
  'a\r\nforged: line',
  'x\u202eexe.txt',
  'l\u2028s',
  'p\u2029',
  '\u0000nul',
  '\u007fdel',
  '\u009bcsi',
  '\u2066iso\u2069',
  '\u200eltr',
  '\u061calm',
  'tab\there',
  '\ud83d\ude00 emoji',
];

test('every unsafe character is escaped, in both forms; safe text unchanged', () => {
  for (const v of HOSTILE) {
    assert.doesNotMatch(displayText(v, 1000), RAW_UNSAFE, JSON.stringify(v));
    assert.doesNotMatch(showValue(v, 1000), RAW_UNSAFE, JSON.stringify(v));
  }
  assert.equal(displayText('jdoe@example.com'), 'jdoe@example.com');
  assert.equal(showValue('ssh.example.com'), '"ssh.example.com"');
  assert.equal(displayText('a\r\nb\u202e'), 'a\\r\\nb\\u202e');
  assert.equal(escapeUnsafeForDisplay('\u001b'), '\\u001b');
  assert.ok(hasUnsafeForDisplay('x\u2028') && !hasUnsafeForDisplay('plain ascii: ok'));
  assert.ok(hasUnsafeForDisplay('x\u2028'), 'no state left between calls');
});

test('capped: at most max characters of the value, then an ellipsis; a surrogate pair is never split', () => {
  assert.equal(displayText('x'.repeat(500)), `${'x'.repeat(80)}…`);
  assert.equal(displayText('x'.repeat(500), 10), `${'x'.repeat(10)}…`);
  assert.equal(showValue('y'.repeat(100)), `"${'y'.repeat(80)}…"`);
  const cut = displayText(`${'a'.repeat(9)}\ud83d\ude00`, 10);
  assert.equal(cut, `${'a'.repeat(9)}…`);
  // Capped before escaping: a flood of escapes cannot grow past ~6 times the cap.
  assert.ok(displayText('\u001b'.repeat(10_000)).length <= 80 * 6 + 1);
});
