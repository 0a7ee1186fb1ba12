// HTTP header names (RFC 9110 §5.1: a token). Checked where a header enters (the
// helper's --header) and where one is written on the wire (the websocket upgrade).

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Whether `name` can be an HTTP header name. */
export function isHeaderName(name: string): boolean {
  return TOKEN_RE.test(name);
}
