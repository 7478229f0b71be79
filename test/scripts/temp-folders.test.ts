// Tests leave nothing in /tmp: every temporary folder comes from test/helpers/tmp.ts, whose folders
// are removed when the test process exits, whether its tests passed, failed or threw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/fixtures.js';

function testSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testSources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

test('no test makes its own temporary folder (mkdtemp) outside test/helpers/tmp.ts', () => {
  const offenders = testSources(join(repoRoot, 'test'))
    .filter((f) => !f.endsWith(join('helpers', 'tmp.ts')) && /\bmkdtemp(Sync)?\s*\(/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
});

for (const ending of ['process.exit(0)', "throw new Error('test failed')", 'process.exitCode = 1']) {
  test(`scratchDir folders are removed when the process ends by ${ending}`, () => {
    const helper = pathToFileURL(join(repoRoot, 'dist', 'test', 'helpers', 'tmp.js')).href;
    const script = `const { scratchDir } = await import(${JSON.stringify(helper)});
      const dir = scratchDir('cnn-scratch-test-');
      (await import('node:fs')).writeFileSync(dir + '/f', 'x');
      console.log(dir);
      ${ending};`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const dir = r.stdout.trim();
    assert.ok(dir.includes('cnn-scratch-test-'), r.stderr);
    assert.equal(existsSync(dir), false, `${dir} left behind`);
  });
}
