// A stand-in for the user's browser, usable as $BROWSER (through browser.sh): opens the
// Access login URL it is given through the same connect-to routing and CA as the helper,
// and, when the page is the login form (no auto-approval), submits it as
// $FAKE_BROWSER_EMAIL (default: the e-mail prefilled in the form).
// Env: FAKE_BROWSER_LOG=<file> appends one line per URL opened; FAKE_BROWSER_FAIL=1 exits 1
// without opening anything (a browser that cannot start).
import { appendFileSync } from 'node:fs';
import { sandboxFetch, type ClientEnv } from './client';

function formFields(html: string): URLSearchParams {
  const out = new URLSearchParams();
  for (const m of html.matchAll(/<input\b[^>]*>/g)) {
    const tag = m[0];
    const name = tag.match(/\bname="([^"]*)"/)?.[1];
    const value = tag.match(/\bvalue="([^"]*)"/)?.[1] ?? '';
    if (name)
      out.set(
        name,
        value
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&amp;/g, '&'),
      );
  }
  return out;
}

export async function openLikeBrowser(url: string, email?: string, env?: ClientEnv): Promise<string> {
  const first = await sandboxFetch(url, { env });
  if (first.status !== 200) throw new Error(`login page answered ${first.status}: ${first.body.slice(0, 200)}`);
  if (first.body.includes('id="done"')) return 'approved (auto)';
  const action = first.body.match(/<form[^>]*action="([^"]*)"/)?.[1];
  if (!action) throw new Error('login page has neither a form nor a success message');
  const fields = formFields(first.body);
  if (email) fields.set('email', email);
  const second = await sandboxFetch(new URL(action, url).toString(), {
    method: 'POST',
    body: fields.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    env,
  });
  if (second.status !== 200 || !second.body.includes('id="done"'))
    throw new Error(`approval answered ${second.status}: ${second.body.slice(0, 200)}`);
  return `approved as ${fields.get('email')}`;
}

async function main(): Promise<void> {
  const url = process.argv[2];
  if (process.env.FAKE_BROWSER_LOG) appendFileSync(process.env.FAKE_BROWSER_LOG, `${new Date().toISOString()} ${url ?? ''}\n`);
  if (process.env.FAKE_BROWSER_FAIL === '1') {
    process.stderr.write('fake browser: failing on purpose (FAKE_BROWSER_FAIL=1)\n');
    process.exit(1);
  }
  if (!url) {
    process.stderr.write('usage: browser.sh <url>\n');
    process.exit(2);
  }
  const result = await openLikeBrowser(url, process.env.FAKE_BROWSER_EMAIL || undefined);
  if (process.env.FAKE_BROWSER_VERBOSE) process.stderr.write(`fake browser: ${result}\n`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`fake browser: ${err.message}\n`);
    process.exit(1);
  });
}
