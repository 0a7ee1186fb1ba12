/**
 * The file layer for a private folder of secrets (`~/.cloudflared`: tokens,
 * keys, certificates, locks, login URLs). Every read and write there goes
 * through it, so that another local user cannot turn the folder against its
 * owner:
 *
 * - the folder must belong to us and be writable by nobody else, as OpenSSH
 *   insists for `~/.ssh`; otherwise nothing in it is used and the error names
 *   the `chmod` that fixes it (`checkPrivateDir`);
 * - files are opened without following symlinks and non-blocking (a FIFO cannot
 *   hang us), and what was opened is checked: a regular file, ours, not too open
 *   (`openPrivateFile`, `readPrivateFile`);
 * - files are written through the one atomic write (atomic-write.ts: an
 *   unpredictable temp name created exclusively, fsync, rename; the rename
 *   replaces a symlink at the path instead of writing through it).
 *
 * A symlink or a file of another owner is refused with the fix named (remove
 * it: `chmod` cannot help).
 */
import { constants as fsc, promises as fs, rmSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { atomicWrite, O_NOFOLLOW } from './atomic-write.js';
import { FileError, ioError } from './file-error.js';

const isWindows = process.platform === 'win32';

function myUid(): number | undefined {
  return isWindows ? undefined : process.getuid?.();
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** Folders already found safe by this process (their owner is us: only we could loosen them). */
const checkedDirs = new Set<string>();

/** Forget what checkPrivateDir found (tests that loosen a folder on purpose). */
export function forgetCheckedDirs(): void {
  checkedDirs.clear();
}

/**
 * Make sure `dir` is a folder of ours that nobody else may write to: created
 * 0700 when missing; refused (FileError 'unsafe-dir', naming the fix) when it is
 * not a folder, belongs to someone else, or is group- or world-writable. A
 * symlink to such a folder is judged by the folder it points to.
 */
export async function checkPrivateDir(dir: string, opts: { create?: boolean } = {}): Promise<void> {
  const abs = resolve(dir);
  if (checkedDirs.has(abs) || isWindows) return;
  let st: Stats;
  try {
    st = await fs.stat(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || opts.create === false) throw ioError('open the folder', abs, err);
    try {
      await fs.mkdir(abs, { recursive: true, mode: 0o700 });
      st = await fs.stat(abs);
    } catch (e) {
      throw ioError('create the folder', abs, e);
    }
  }
  if (!st.isDirectory()) {
    throw new FileError(
      'unsafe-dir',
      abs,
      `${abs} is not a folder`,
      `Move it away; Access SSH keeps its tokens and keys in the folder ${abs}.`,
    );
  }
  const uid = myUid();
  if (uid !== undefined && st.uid !== uid) {
    throw new FileError(
      'unsafe-dir',
      abs,
      `${abs} belongs to another user (uid ${st.uid}); its tokens and keys cannot be trusted`,
      `Move it away (it will be created again), or give it to your user: chown -R ${uid} "${abs}" && chmod 700 "${abs}".`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new FileError(
      'unsafe-dir',
      abs,
      `${abs} can be written by ${(st.mode & 0o002) !== 0 ? 'every user' : 'its group'} (mode ${octal(st.mode)}): others could plant or swap its tokens, keys and locks, so it is not used`,
      `Run: chmod 700 "${abs}" (then check that its files are yours).`,
    );
  }
  checkedDirs.add(abs);
}

export type Sensitivity =
  /** Refuse a file group or others may read (a private key: ssh refuses it too). */
  | 'secret'
  /** A file group or others may read is made 0600 and `onRepaired` is told (a token). */
  | 'repair'
  /** Anyone may read it (a certificate, a public key). */
  | 'public';

export interface OpenPrivateOptions {
  readonly sensitivity: Sensitivity;
  /** Told when a too-open file was made 0600 (`repair`). */
  onRepaired?(path: string, oldMode: number): void;
}

/**
 * Open `path` for reading without following a symlink and without blocking (a
 * FIFO or a device is refused, not waited on), after checking its folder; then
 * check what was opened: a regular file, ours, and private as `sensitivity` asks.
 * Missing: undefined. Anything else wrong: FileError naming the path and the fix.
 */
export async function openPrivateFile(path: string, opts: OpenPrivateOptions): Promise<fs.FileHandle | undefined> {
  await checkPrivateDir(dirname(path), { create: false }).catch((err: unknown) => {
    if ((err as FileError).cause && ((err as FileError).cause as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  });
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, fsc.O_RDONLY | O_NOFOLLOW | (fsc.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new FileError(
        'unsafe-file',
        path,
        `${path} is a symbolic link; Access SSH does not follow links in its private folder`,
        `Remove the link (rm "${path}"); it will be created again as a file.`,
      );
    }
    throw ioError('read', path, err);
  }
  try {
    const st = await handle.stat();
    checkOpened(path, st, opts);
    if (opts.sensitivity === 'repair' && !isWindows && (st.mode & 0o077) !== 0) {
      await handle.chmod(st.mode & 0o700);
      opts.onRepaired?.(path, st.mode & 0o7777);
    }
    return handle;
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

function checkOpened(path: string, st: Stats, opts: OpenPrivateOptions): void {
  if (!st.isFile()) {
    const what = st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a named pipe' : st.isSocket() ? 'a socket' : 'not a regular file';
    throw new FileError(
      'unsafe-file',
      path,
      `${path} is ${what}, not a file`,
      `Remove it (rm -r "${path}"); it will be created again as a file.`,
    );
  }
  const uid = myUid();
  if (uid !== undefined && st.uid !== uid) {
    throw new FileError(
      'unsafe-file',
      path,
      `${path} belongs to another user (uid ${st.uid}); it is not used`,
      `Remove it (rm "${path}"); chmod cannot help. It will be created again.`,
    );
  }
  if (opts.sensitivity === 'secret' && !isWindows && (st.mode & 0o077) !== 0) {
    throw new FileError(
      'unsafe-file',
      path,
      `Permissions ${octal(st.mode)} for ${path} are too open: ssh refuses a private key others can read`,
      `Run: chmod 600 "${path}"`,
    );
  }
}

/** The whole file (see openPrivateFile), or undefined when it does not exist. At most `maxBytes`. */
export async function readPrivateFile(path: string, opts: OpenPrivateOptions & { maxBytes?: number }): Promise<Buffer | undefined> {
  const handle = await openPrivateFile(path, opts);
  if (!handle) return undefined;
  try {
    const max = opts.maxBytes ?? 1024 * 1024;
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > max)
        throw new FileError(
          'unsafe-file',
          path,
          `${path} is larger than ${max} bytes; it is not what Access SSH writes there`,
          `Remove it (rm "${path}").`,
        );
    }
    return buf.subarray(0, n);
  } catch (err) {
    throw ioError('read', path, err);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The file's stat, not following a symlink (refused), or undefined when missing. */
export async function statPrivateFile(path: string, opts: OpenPrivateOptions): Promise<Stats | undefined> {
  const handle = await openPrivateFile(path, opts);
  if (!handle) return undefined;
  try {
    return await handle.stat();
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Replace `path` atomically with `data` (mode `mode`, default 0600), after
 * checking its folder (created 0700 when missing). A symlink at `path` is
 * replaced, never written through.
 */
export async function writePrivateFile(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  await checkPrivateDir(dirname(path));
  await atomicWrite(path, data, { mode, followSymlinks: false });
}

/** Remove `path` (a link is removed, not followed); missing is fine. */
export async function removePrivateFile(path: string): Promise<void> {
  try {
    await fs.rm(path, { force: true });
  } catch (err) {
    throw ioError('delete', path, err);
  }
}

/** removePrivateFile for a process on its way out (a signal handler): synchronous, best effort. */
export function removePrivateFileSync(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // exiting anyway
  }
}
