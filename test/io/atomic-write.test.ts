// The one file writer: all or nothing, checked byte counts, previous file kept, stale temps cleaned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { removeStaleTempFiles, tempPathFor, writeFileAtomic, FileWriteError } from '../../src/io/atomic-write.js';
import { scratchDir } from '../helpers/tmp.js';

const tmp = () => scratchDir('cnn-write-');
const moduleUrl = (file: string) => new URL(`../../src/${file}`, import.meta.url).href;

/** Runs a Node script with the file-size limit at `kib` KiB: the kernel then returns short writes, then EFBIG. */
function runWithFileSizeLimit(kib: number, script: string) {
  return spawnSync('bash', ['-c', `ulimit -f ${kib}; exec "$0" --input-type=module -e "$1"`, process.execPath, script], { encoding: 'utf8' });
}

test('writeFileAtomic replaces a file and leaves no temp file', () => {
  const dir = tmp();
  const path = join(dir, 'a.json');
  writeFileAtomic(path, 'one\n');
  writeFileAtomic(path, [Buffer.from('tw'), Buffer.from('o\n')]);
  assert.equal(readFileSync(path, 'utf8'), 'two\n');
  assert.deepEqual(readdirSync(dir), ['a.json']);
  assert.throws(() => writeFileAtomic(join(dir, 'missing', 'x'), 'x'), (e: Error) => e instanceof FileWriteError && /cannot write .*missing\/x: its folder does not exist/.test(e.message));
  mkdirSync(join(dir, 'folder'));
  assert.throws(() => writeFileAtomic(join(dir, 'folder'), 'x'), /cannot write .*folder: a folder is in the way/);
  assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'folder']);
  rmSync(dir, { recursive: true, force: true });
});

test('a short write (disk full) is an error: the previous checkpoint survives and no temp file is left', () => {
  const dir = tmp();
  const path = join(dir, 'last.bin');
  writeFileSync(path, 'the previous checkpoint');
  // 40,000 floats = 160 kB against a 16 KiB limit: the first write returns 16,384, the next EFBIG.
  const script = `import { saveSafetensors } from '${moduleUrl('io/safetensors.js')}';
    import { Tensor } from '${moduleUrl('tensor/tensor.js')}';
    try { saveSafetensors(${JSON.stringify(path)}, { w: Tensor.ones([40000]) }); console.log('saved'); }
    catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
  const r = runWithFileSizeLimit(16, script);
  assert.match(r.stdout.trim(), /^FileWriteError: cannot write .*last\.bin: file too large for this file system or limit \(wrote 16384 of 160\d\d\d bytes\)$/, r.stderr);
  assert.equal(readFileSync(path, 'utf8'), 'the previous checkpoint');
  assert.deepEqual(readdirSync(dir), ['last.bin']);
  rmSync(dir, { recursive: true, force: true });
});

test('temp files of dead writers on this host are removed; live and foreign ones are kept', async () => {
  const dir = tmp();
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  const mine = tempPathFor(join(dir, 'last.bin'));
  const dead = mine.replace(`.tmp-${process.pid}-`, `.tmp-${child.pid}-`);
  const foreign = join(dir, `best.bin.tmp-${child.pid}-some-other-host`);
  for (const f of [mine, dead, foreign, join(dir, 'notes.tmp')]) writeFileSync(f, 'x');
  assert.deepEqual(removeStaleTempFiles(dir), [dead.slice(dir.length + 1)]);
  assert.ok(existsSync(mine) && existsSync(foreign) && !existsSync(dead));
  assert.deepEqual(removeStaleTempFiles(join(dir, 'nonexistent')), []);
  rmSync(dir, { recursive: true, force: true });
});
