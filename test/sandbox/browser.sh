#!/bin/sh
# $BROWSER stand-in for tests and demos: opens the Access login URL like a browser
# would (same connect-to routing and CA as the helper) and approves the login.
# Needs the compiled sandbox (npx tsc -p .) under out/.
here=$(cd "$(dirname "$0")" && pwd)
js="$here/../../out/test/sandbox/fake-browser.js"
if [ ! -f "$js" ]; then
  echo "browser.sh: $js is missing; compile first: npx tsc -p ." >&2
  exit 1
fi
exec "${NODE:-node}" "$js" "$@"
