// The one safe display of untrusted text: every value that comes from the edge (an
// e-mail claim, an error message, a certificate's principals, a response body), the
// environment (ACCESS_SSH_CONNECT_TO, a setting) or a file goes through here before it
// reaches a terminal, a log, a message box or the editor. Nothing it returns can move
// the cursor, start a new line, run an escape sequence or reorder what is shown, and
// its length is capped.

/**
 * What must not reach a display raw: C0 controls (ESC, CR, LF, NUL, …), DEL and C1
 * controls, the Unicode line and paragraph separators (a new line in an editor, a
 * forged line in a log) and the bidirectional marks, embeddings, overrides and
 * isolates (text that reads differently from what it is: U+202E).
 */
const UNSAFE_RE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The default cap of a shown value. */
export const DISPLAY_MAX = 80;

function escapeChar(c: string): string {
  switch (c) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

function cap(text: string, max: number): string {
  if (text.length <= max) return text;
  // Do not cut a surrogate pair in two.
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** Whether `text` holds anything displayText would escape. */
export function hasUnsafeForDisplay(text: string): boolean {
  UNSAFE_RE.lastIndex = 0;
  const found = UNSAFE_RE.test(text);
  UNSAFE_RE.lastIndex = 0;
  return found;
}

/** Whether `text` holds a control character or a line/paragraph separator (bidi marks aside). */
export function hasControlOrLineBreak(text: string): boolean {
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(text);
}

/** Escape what must not reach a display raw as `\n`, `\uXXXX` (no cap, no quotes). */
export function escapeUnsafeForDisplay(text: string): string {
  return text.replace(UNSAFE_RE, escapeChar);
}

/** Replace every unsafe character with `replacement` (a label kept readable, no escapes). */
export function replaceUnsafeForDisplay(text: string, replacement: string): string {
  return text.replace(UNSAFE_RE, replacement);
}

/**
 * Untrusted text for inline use ("Signed in as <e-mail>"): capped at `max`
 * characters, then every unsafe character escaped.
 */
export function displayText(value: string, max: number = DISPLAY_MAX): string {
  return escapeUnsafeForDisplay(cap(value, max));
}

/**
 * Untrusted text as a quoted value ("host name \"x\\ny\" is not valid"):
 * capped at `max` characters, JSON-quoted, every unsafe character escaped.
 */
export function showValue(value: string, max: number = DISPLAY_MAX): string {
  return escapeUnsafeForDisplay(JSON.stringify(cap(value, max)));
}
