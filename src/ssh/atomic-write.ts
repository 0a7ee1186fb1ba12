/**
 * Atomic file replacement: a temp file in the same directory (random name, created
 * exclusively, 0600), written, fsynced, given its final mode, then renamed over
 * the target. Readers see the old file or the new one, never a half-written one;
 * concurrent writers each rename a complete file, so the last one wins. With
 * `expect`, a change made by someone else since the caller's read is detected just
 * before the rename and not overwritten (the window left is the rename itself).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsc } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

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
}

/** The target changed between the caller's read and our rename (see `expect`). */
export class ChangedMeanwhileError extends Error {
  override readonly name = 'ChangedMeanwhileError';
  constructor(readonly path: string) {
    super(`${path} was changed by someone else while it was being rewritten`);
  }
}

async function currentBytes(p: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
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
      throw e;
    }
    if (!st.isSymbolicLink()) return current;
    const link = await fs.readlink(current);
    current = resolve(dirname(current), link);
  }
  const err: NodeJS.ErrnoException = new Error(`Too many levels of symbolic links: ${p}`);
  err.code = 'ELOOP';
  throw err;
}

async function existingMode(p: string): Promise<number | undefined> {
  try {
    return (await fs.stat(p)).mode & 0o7777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function atomicWrite(target: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const file = await resolveWriteTarget(target);
  const dir = dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: opts.dirMode ?? 0o700 });
  const mode = opts.mode ?? (await existingMode(file)) ?? 0o600;
  const tmp = join(dir, `.${basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  let renamed = false;
  try {
    try {
      await handle.writeFile(data);
      await handle.chmod(mode); // after creation, so the umask can't narrow it
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (opts.expect !== undefined && !sameBytes(opts.expect, await currentBytes(file))) throw new ChangedMeanwhileError(file);
    await fs.rename(tmp, file);
    renamed = true;
    await syncDir(dir);
  } finally {
    if (!renamed) await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
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
