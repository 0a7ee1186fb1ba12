// The repository root, found from a compiled test's folder (out/test/...) or a source one.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The nearest folder above `from` whose package.json is this project's; throws at `/`. */
export function findRoot(from: string = __dirname): string {
  for (let dir = from; ;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'access-ssh') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no access-ssh package.json above ${from}`);
    dir = up;
  }
}

export const ROOT = findRoot();
