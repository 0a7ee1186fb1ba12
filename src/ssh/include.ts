/**
 * The one managed block in the user's ssh config (`remote.SSH.configFile`, else
 * `~/.ssh/config`):
 *
 *     # >>> Access SSH (managed) >>>
 *     Include "/home/me/.ssh/access-ssh/config"
 *     # <<< Access SSH (managed) <<<
 *
 * The marker lines are stable: don't change their text (old blocks would no longer
 * be found). Exactly one Include line sits between them.
 *
 * Why at the top: for each option OpenSSH keeps the first value it meets, reading
 * the file top to bottom. An entry appended at the end loses to any earlier
 * `Host *` (IdentityFile, ProxyCommand, User…); an Include at the top is read
 * before everything else. It must also stand outside any `Host`/`Match` block, or
 * it would only apply when that block matches. So when the block is found below
 * a directive, it is moved back to the top (the user's lines keep their order).
 *
 * Every other byte of the user's file is kept: BOM, line endings (a CRLF file gets
 * a CRLF block), a missing final newline. A damaged block (begin without end, end
 * without begin, nested or repeated blocks, anything but one Include line inside)
 * is an `SshConfigError` and the file is left untouched.
 */
import { promises as fs } from 'node:fs';
import { atomicWrite, ChangedMeanwhileError } from '../base/atomic-write.js';
import { FileError, ioError } from '../base/file-error.js';
import { quoteIncludePath } from './quote.js';
import { SshConfigError } from './validate.js';

export const BEGIN_MARKER = '# >>> Access SSH (managed) >>>';
export const END_MARKER = '# <<< Access SSH (managed) <<<';
/** Lines that look like one of our markers (a damaged marker is still ours). */
const MARKER_LIKE_RE = /^\s*#\s*(>>>|<<<)\s*Access SSH\b/i;

const BOM = '\uFEFF';
/** The UTF-8 BOM as the user's file is held here (bytes as latin1, see readBytes). */
const BOM_BYTES = '\u00EF\u00BB\u00BF';

export interface IncludeOptions {
  /** The platform whose OpenSSH reads the file. Default: this one. */
  platform?: NodeJS.Platform;
}

interface Line {
  /** Text without its line ending. */
  text: string;
  /** `\n`, `\r\n` or '' for a last line without newline. */
  eol: string;
  /** 1-based. */
  no: number;
}

function splitLines(body: string): Line[] {
  const lines: Line[] = [];
  const re = /\r?\n/g;
  let start = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    lines.push({ text: body.slice(start, m.index), eol: m[0], no: lines.length + 1 });
    start = m.index + m[0].length;
  }
  if (start < body.length) lines.push({ text: body.slice(start), eol: '', no: lines.length + 1 });
  return lines;
}

function joinLines(lines: readonly Line[]): string {
  return lines.map((l) => l.text + l.eol).join('');
}

/** The line ending the file already uses (the first one found), LF when none. */
function detectEol(lines: readonly Line[]): string {
  return lines.find((l) => l.eol !== '')?.eol ?? '\n';
}

function isBlankOrComment(text: string): boolean {
  const t = text.trim();
  return t === '' || t.startsWith('#');
}

interface Parsed {
  bom: string;
  lines: Line[];
  /** Index of the begin and end marker lines, when there is a block. */
  block?: { begin: number; end: number };
}

function brokenMarker(configPath: string, detail: string): SshConfigError {
  return new SshConfigError(
    `The Access SSH block in ${configPath} is damaged: ${detail}. The file was not changed.`,
    `Open ${configPath} and remove the lines between (and including) "${BEGIN_MARKER}" and "${END_MARKER}", then try again; Access SSH will add a fresh block.`,
    'broken-marker',
  );
}

function parse(content: string, configPath: string): Parsed {
  const bom = content.startsWith(BOM) ? BOM : content.startsWith(BOM_BYTES) ? BOM_BYTES : '';
  const lines = splitLines(content.slice(bom.length));
  const begins: number[] = [];
  const ends: number[] = [];
  lines.forEach((l, i) => {
    const t = l.text.trim();
    if (t === BEGIN_MARKER) begins.push(i);
    else if (t === END_MARKER) ends.push(i);
    else if (MARKER_LIKE_RE.test(l.text))
      throw brokenMarker(configPath, `line ${l.no} looks like an altered marker: ${JSON.stringify(l.text)}`);
  });
  if (begins.length === 0 && ends.length === 0) return { bom, lines };
  if (begins.length > 1 || ends.length > 1) {
    throw brokenMarker(
      configPath,
      `there are ${begins.length} begin and ${ends.length} end markers (lines ${[...begins, ...ends]
        .sort((a, b) => a - b)
        .map((i) => i + 1)
        .join(', ')}); there must be one block`,
    );
  }
  if (begins.length === 0) throw brokenMarker(configPath, `line ${ends[0]! + 1} ends a block that never begins`);
  if (ends.length === 0) throw brokenMarker(configPath, `the block begun on line ${begins[0]! + 1} never ends`);
  const begin = begins[0]!;
  const end = ends[0]!;
  if (end < begin) throw brokenMarker(configPath, `the end marker (line ${end + 1}) comes before the begin marker (line ${begin + 1})`);
  const inner = lines.slice(begin + 1, end);
  if (inner.length !== 1 || !/^\s*include(\s|=)/i.test(inner[0]!.text)) {
    throw brokenMarker(configPath, `lines ${begin + 1}–${end + 1} should hold exactly one Include line`);
  }
  return { bom, lines, block: { begin, end } };
}

/**
 * The user's file is handled as bytes: decoded as latin1 (one char per byte) and
 * written back the same way, so that bytes that are not UTF-8 survive untouched.
 */
async function readBytes(p: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(p)).toString('latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw configFileError(ioError('read', p, e));
  }
}

async function readIfExists(p: string): Promise<string | undefined> {
  try {
    return await fs.readFile(p, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw configFileError(ioError('read', p, e));
  }
}

/** A failure of the file layer as the SshConfigError the editor shows: it names the file and the next step. */
function configFileError(err: unknown): unknown {
  if (!(err instanceof FileError)) return err;
  return new SshConfigError(
    err.message,
    err.hint ?? `Check ${err.path} and try again.`,
    err.code === 'read-only' ? 'read-only' : 'file-error',
    { ...(err.action !== undefined ? { action: err.action } : {}), cause: err },
  );
}

/** The text of the Include line we write for `ourFile`. */
export function includeLine(ourFile: string, platform: NodeJS.Platform): string {
  return `Include ${quoteIncludePath(ourFile, platform)}`;
}

/**
 * The new content of a config with our block for `ourFile` (pure; `content` is
 * undefined for a missing file). Throws `SshConfigError` on a damaged block.
 */
export function withInclude(
  content: string | undefined,
  ourFile: string,
  platform: NodeJS.Platform,
  configPath = 'the ssh config',
): string {
  return withIncludeLine(content, includeLine(ourFile, platform), configPath);
}

function withIncludeLine(content: string | undefined, wanted: string, configPath: string): string {
  const { bom, lines, block } = parse(content ?? '', configPath);
  const eol = detectEol(lines);
  if (block) {
    const atTop = lines.slice(0, block.begin).every((l) => isBlankOrComment(l.text));
    const inner = lines[block.begin + 1]!;
    if (atTop) {
      if (inner.text === wanted) return content ?? '';
      const out = lines.slice();
      out[block.begin + 1] = { ...inner, text: wanted };
      return bom + joinLines(out);
    }
    // Below a directive: take the block out and put a fresh one at the top.
    const rest = [...lines.slice(0, block.begin), ...lines.slice(block.end + 1)];
    return bom + [BEGIN_MARKER, wanted, END_MARKER].map((t) => t + eol).join('') + joinLines(rest);
  }
  return bom + [BEGIN_MARKER, wanted, END_MARKER].map((t) => t + eol).join('') + joinLines(lines);
}

/** The content without our block (pure). Unchanged when there is none. */
export function withoutInclude(content: string, configPath = 'the ssh config'): string {
  const { bom, lines, block } = parse(content, configPath);
  if (!block) return content;
  return bom + joinLines([...lines.slice(0, block.begin), ...lines.slice(block.end + 1)]);
}

/**
 * Makes sure `configPath` has our block, including `ourFile`, at the top.
 * Idempotent. Creates the file (0600) and its directory (0700) when missing; keeps
 * the mode of an existing file; edits the target of a symlink.
 */
export async function ensureInclude(configPath: string, ourFile: string, opts: IncludeOptions = {}): Promise<{ changed: boolean }> {
  const line = Buffer.from(includeLine(ourFile, opts.platform ?? process.platform), 'utf8').toString('latin1');
  return await editBytes(configPath, (before) => {
    const after = withIncludeLine(before, line, configPath);
    return before !== undefined && after === before ? undefined : after;
  });
}

/** Removes exactly our block; a missing file or a file without one is left alone. */
export async function removeInclude(configPath: string): Promise<{ changed: boolean }> {
  return await editBytes(configPath, (before) => {
    if (before === undefined) return undefined;
    const after = withoutInclude(before, configPath);
    return after === before ? undefined : after;
  });
}

/** How often an edit starts over because someone else saved the file meanwhile. */
const EDIT_ATTEMPTS = 20;

/** A random pause that grows with the attempt, so that writers racing each other fall out of step. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.min(250, attempt * (10 + Math.random() * 40));
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Read, compute, write, with the write refused when the file changed since the read
 * (another window, the user's editor): then start over from the new bytes, so that
 * their save is never overwritten. `compute` returns undefined for "no change".
 */
async function editBytes(configPath: string, compute: (before: string | undefined) => string | undefined): Promise<{ changed: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const before = await readBytes(configPath);
    const after = compute(before);
    if (after === undefined) return { changed: false };
    try {
      await atomicWrite(configPath, Buffer.from(after, 'latin1'), { expect: before === undefined ? null : Buffer.from(before, 'latin1') });
      return { changed: true };
    } catch (e) {
      if (!(e instanceof ChangedMeanwhileError)) throw configFileError(e);
      if (attempt >= EDIT_ATTEMPTS) {
        throw new SshConfigError(
          `${configPath} changed while Access SSH was editing it, ${EDIT_ATTEMPTS} times in a row; it was left as it is.`,
          'Something keeps rewriting the file (an editor saving, a dotfiles sync). Let it finish, then try again.',
          'changed-meanwhile',
          { action: 'retry' },
        );
      }
      await backoff(attempt);
    }
  }
}

/** Writes our own file (e.g. `~/.ssh/access-ssh/config`): atomic, 0600, directory 0700. Skips identical content. */
export async function writeManagedFile(filePath: string, content: string): Promise<{ changed: boolean }> {
  const before = await readIfExists(filePath);
  if (before === content) {
    const st = await fs.stat(filePath);
    if ((st.mode & 0o777) === 0o600 || process.platform === 'win32') return { changed: false };
  }
  try {
    await atomicWrite(filePath, content, { mode: 0o600 });
  } catch (e) {
    throw configFileError(e);
  }
  return { changed: true };
}
