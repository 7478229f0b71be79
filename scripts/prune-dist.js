// tsc never deletes stale output, so a removed test would keep running from dist/. Deleting dist/
// before building would break a `cnn` that runs meanwhile; instead tsc overwrites in place and
// this removes what no longer has a source file.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

function prune(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
      continue;
    }
    const source = relative(dist, path).replace(/(\.d\.ts|\.js)$/, '.ts');
    if (!existsSync(join(root, source))) rmSync(path);
  }
}

if (existsSync(dist)) prune(dist);
