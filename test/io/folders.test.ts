// makeFolder: one level at a time, with errors that say which part of the path is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFolder, FolderError } from '../../src/io/folders.js';
import { scratchDir } from '../helpers/tmp.js';

test('makeFolder creates missing parents and says whether it made the folder', () => {
  const dir = scratchDir('cnn-folders-');
  assert.equal(makeFolder(join(dir, 'a', 'b', 'c')), true);
  assert.ok(statSync(join(dir, 'a', 'b', 'c')).isDirectory());
  assert.equal(makeFolder(join(dir, 'a', 'b')), false);
  writeFileSync(join(dir, 'file'), 'x');
  assert.throws(() => makeFolder(join(dir, 'file', 'sub')), (e: Error) => e instanceof FolderError && /cannot create folder .*file\/sub: .*file is a file/.test(e.message));
  assert.throws(() => makeFolder(join(dir, 'file')), /file is a file/);
  rmSync(dir, { recursive: true, force: true });
});

test('a folder below /proc is an error at once (Node\'s recursive mkdir loops there forever)', () => {
  assert.throws(() => makeFolder('/proc/cnn-test/x'), /cannot create folder \/proc\/cnn-test\/x: the file system does not allow creating it \(at \/proc\/cnn-test\)/);
  assert.ok(!existsSync('/proc/cnn-test'));
});
