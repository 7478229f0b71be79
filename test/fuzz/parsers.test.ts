// Every parser of untrusted bytes under a fixed-seed mutation corpus: no crash (only the parser's
// own errors), no input over a second, resident memory under 512 MB. npm test runs a few thousand
// inputs per target; CI's `npm run test:fuzz` sets CNN_FUZZ_INPUTS=100000.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz } from './harness.js';
import { targets } from './targets.js';

const inputs = Number(process.env.CNN_FUZZ_INPUTS ?? 2000);

for (const target of targets) {
  test(`fuzz ${target.name}: ${inputs} mutated inputs`, async (t) => {
    const r = await fuzz(target, inputs, 1);
    t.diagnostic(JSON.stringify({ ...r, crashes: r.crashes.length, hangs: r.hangs.length }));
    assert.deepEqual(r.crashes, []);
    assert.deepEqual(r.hangs, []);
    assert.ok(r.peakRssMb < 512, `peak RSS ${r.peakRssMb} MB`);
    // A corpus that the parser always rejects at the first byte would test nothing.
    assert.ok(r.accepted > 0, 'some mutated inputs are still accepted');
  });
}
