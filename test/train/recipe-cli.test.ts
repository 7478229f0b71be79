// The recipe options through the real `cnn train`: a run with them completes and records them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { scratchDir } from '../helpers/tmp.js';

test('--accum-steps, --class-weights auto and --sampler balanced train and are recorded in args.json', () => {
  const out = join(scratchDir('cnn-recipe-'), 'run');
  const r = runCli(['train', '--epochs', '1', '--out', out, '--quiet', '--accum-steps', '2', '--class-weights', 'auto', '--sampler', 'balanced']);
  assert.equal(r.status, 0, r.stderr);
  const args = JSON.parse(readFileSync(join(out, 'args.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(args.accumSteps, 2);
  assert.equal(args.classWeights, 'auto');
  assert.equal(args.sampler, 'balanced');
});
