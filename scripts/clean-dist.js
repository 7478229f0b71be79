// tsc never deletes stale output; a removed test must not keep running from dist/.
import { rmSync } from 'node:fs';
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
