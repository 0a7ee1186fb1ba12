// Shared by the ssh tests: temp dirs (real paths, so that symlink checks compare equal).
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export async function tempDir(prefix = 'access-ssh-test-'): Promise<string> {
  return fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
}
