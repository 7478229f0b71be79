// Temporary folders for tests, never left behind in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const scratchDirs: string[] = [];
// node --test runs each test file in its own process, so one exit hook per file removes its folders
// whether its tests passed or failed.
process.once('exit', () => {
  for (const dir of scratchDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort: a folder still mounted (the disk-full test's tmpfs) must not fail the tests.
    }
  }
});

/** A fresh folder under the system's temp folder, removed when the test process exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

/** A fresh folder per test with its own cleanup (also removed at exit if a test fails first). */
export function withTempDir(): { dir: string; cleanup: () => void } {
  const dir = scratchDir('cnn-data-test-');
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
