/**
 * The one atomic file replacement of the code base (the ssh config, our own
 * entries, the launcher, and every file in `~/.cloudflared` through
 * private-files.ts): a temp file in the same directory, with an unpredictable
 * name (128 random bits), created exclusively without following symlinks,
 * checked to be the regular file we just made, written, given its final mode,
 * fsynced, then renamed over the target and the directory fsynced. Readers see
 * the old file or the new one, never a half-written one; concurrent writers each
 * rename a complete file, so the last one wins. A failure at any step removes the
 * temp file and is a `FileError` naming the target and the next step (ENOSPC:
 * free some space). With `expect`, a change made by someone else since the
 * caller's read is detected just before the rename and not overwritten (the
 * window left is the rename itself).
 *
 * Several files can be staged first and renamed together (`stageFile`,
 * `commitStaged`): a certificate's key and certificate replace the old pair
 * within microseconds of each other, and nothing is left when any step fails.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsc } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FileError, ioError } from './file-error.js';

export { FileError } from './file-error.js';

export interface AtomicWriteOptions {
  /** Mode of the file. Default: the existing file's mode, 0600 when new. */
  mode?: number;
  /** Mode of directories created on the way. Default 0700. */
  dirMode?: number;
  /**
   * The bytes the new content was computed from (`null`: the file did not exist).
   * Just before the rename the target is read again; when someone else changed it
   * meanwhile, nothing is replaced and `ChangedMeanwhileError` is thrown, so that the
   * caller can start over from the new bytes instead of overwriting them.
   */
  expect?: Uint8Array | null;
  /**
   * Follow a symlink at the target and replace the file it points to (default
   * true: a config kept in a dotfiles repository stays linked). false: the rename
   * replaces whatever is at the path, a link included (`~/.cloudflared`).
   */
  followSymlinks?: boolean;
}

/** The target changed between the caller's read and our rename (see `expect`). */
export class ChangedMeanwhileError extends Error {
  override readonly name = 'ChangedMeanwhileError';
  constructor(readonly path: string) {
    super(`${path} was changed by someone else while it was being rewritten`);
  }
}

/** O_NOFOLLOW where the platform has it (not on Windows, where there is nothing to follow into). */
export const O_NOFOLLOW: number = fsc.O_NOFOLLOW ?? 0;

async function currentBytes(p: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError('read', p, e);
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

const MAX_LINKS = 40;

/**
 * Where a write to `p` must land: symlinks are followed (also dangling ones, and
 * chains), so that a config kept in a dotfiles repository stays linked.
 */
export async function resolveWriteTarget(p: string): Promise<string> {
  let current = resolve(p);
  for (let i = 0; i < MAX_LINKS; i++) {
    let st;
    try {
      st = await fs.lstat(current);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return current;
      throw ioError('read', current, e);
    }
    if (!st.isSymbolicLink()) return current;
    const link = await fs.readlink(current);
    current = resolve(dirname(current), link);
  }
  const err: NodeJS.ErrnoException = new Error('Too many levels of symbolic links');
  err.code = 'ELOOP';
  throw ioError('resolve', p, err);
}

async function existing(p: string): Promise<{ mode: number; isFile: boolean } | undefined> {
  try {
    const st = await fs.stat(p);
    return { mode: st.mode & 0o7777, isFile: st.isFile() };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('read', p, e);
  }
}

/** A complete temp file waiting to be renamed over `target`. */
export interface StagedFile {
  readonly temp: string;
  readonly target: string;
}

/** `.<name>.<32 hex digits>.tmp` beside `target`: unpredictable, so nobody can plant it in advance. */
export function tempNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(16).toString('hex')}.tmp`);
}

/**
 * Write `data` to a new temp file beside `target`, created exclusively
 * (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), checked to be a regular file of ours, given
 * `mode` (after creation, so that the umask cannot narrow it) and fsynced (unless
 * `sync: false`: a file whose loss in a crash does not matter, such as a lock).
 * On failure the temp file is gone and a FileError names `target`.
 */
export async function stageFile(
  target: string,
  data: string | Uint8Array,
  mode: number,
  opts: { readonly sync?: boolean } = {},
): Promise<StagedFile> {
  const temp = tempNameFor(target);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | O_NOFOLLOW, 0o600);
    const st = await handle.stat();
    const uid = process.getuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid) || st.nlink !== 1) {
      throw new FileError(
        'unsafe-file',
        temp,
        `${temp} is not the file just created for ${target}`,
        `Check who else writes in ${dirname(target)}.`,
      );
    }
    await handle.writeFile(data);
    await handle.chmod(mode);
    if (opts.sync !== false) await handle.sync();
    await handle.close();
    handle = undefined;
    return { temp, target };
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw ioError('write', target, err);
  }
}

/** Remove staged temp files (best effort). */
export async function discardStaged(files: readonly StagedFile[]): Promise<void> {
  await Promise.all(files.map((f) => fs.rm(f.temp, { force: true }).catch(() => undefined)));
}

/**
 * Stage every file, then rename them all; on any failure nothing staged is left
 * behind (files already renamed stay: each of them is complete).
 */
export async function writeFilesAtomically(
  files: ReadonlyArray<{ target: string; data: string | Uint8Array; mode: number }>,
): Promise<void> {
  // Staged side by side: their fsyncs overlap (the file system commits them together)
  // instead of one after the other, ~2 fsyncs less per certificate renewal
  // (docs/BENCHMARKS.md, sixth round). Still all staged before the first rename.
  const results = await Promise.allSettled(files.map((f) => stageFile(f.target, f.data, f.mode)));
  const staged = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await discardStaged(staged);
    throw failed.reason;
  }
  await commitStaged(staged);
}

/** Rename each staged file over its target, then fsync their directories. */
export async function commitStaged(files: readonly StagedFile[]): Promise<void> {
  let i = 0;
  try {
    for (; i < files.length; i++) await fs.rename(files[i]!.temp, files[i]!.target);
  } catch (err) {
    await discardStaged(files.slice(i));
    throw ioError('replace', files[i]!.target, err);
  }
  for (const dir of new Set(files.map((f) => dirname(f.target)))) await syncDir(dir);
}

export async function atomicWrite(target: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const file = opts.followSymlinks === false ? resolve(target) : await resolveWriteTarget(target);
  const dir = dirname(file);
  try {
    await fs.mkdir(dir, { recursive: true, mode: opts.dirMode ?? 0o700 });
  } catch (err) {
    throw ioError('create the folder of', file, err);
  }
  const was = opts.followSymlinks === false ? undefined : await existing(file);
  if (was && !was.isFile) {
    throw new FileError('unsafe-file', file, `${file} is not a regular file`, `Move it away; a file is expected at ${file}.`);
  }
  if (opts.mode === undefined && was && (was.mode & 0o200) === 0 && process.platform !== 'win32') {
    // The user took away their own write permission: that is a "do not touch", and
    // a rename would go around it. Say so instead.
    throw new FileError(
      'read-only',
      file,
      `${file} is read-only (mode ${was.mode.toString(8).padStart(4, '0')}); it was not changed`,
      `Make it writable (chmod u+w "${file}") and try again, or make the change yourself.`,
    );
  }
  const mode = opts.mode ?? was?.mode ?? 0o600;
  const staged = await stageFile(file, data, mode);
  try {
    if (opts.expect !== undefined && !sameBytes(opts.expect, await currentBytes(file))) throw new ChangedMeanwhileError(file);
  } catch (err) {
    await discardStaged([staged]);
    throw err;
  }
  await commitStaged([staged]);
}

/** Makes the rename durable; not possible (nor needed) on Windows. */
async function syncDir(dir: string): Promise<void> {
  let h;
  try {
    h = await fs.open(dir, fsc.O_RDONLY);
    await h.sync();
  } catch {
    // best effort
  } finally {
    await h?.close().catch(() => undefined);
  }
}
