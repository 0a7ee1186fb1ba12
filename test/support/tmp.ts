// Temporary folders that tests make and always remove, even when the test fails.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Something with an `after` hook: node:test's TestContext, or a suite's. */
interface HasAfter {
  after(fn: () => void): void;
}

/** A new folder under the system's temporary folder, removed after `t` ends. */
export function tempDir(t: HasAfter, prefix = 'access-ssh-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
