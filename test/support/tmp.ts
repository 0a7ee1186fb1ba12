// Temporary folders that tests make and always remove, even when the test fails.
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Something with an `after` hook: node:test's TestContext, or a suite's. */
export interface HasAfter {
  after(fn: () => void): void;
}

/**
 * A new folder under the system's temporary folder, removed after `t` ends. Its real path
 * (macOS's /tmp is a link), so that tests comparing resolved paths compare equal.
 */
export function tempDir(t: HasAfter, prefix = 'access-ssh-test-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
