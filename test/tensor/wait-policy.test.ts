// Loading the addon makes OpenMP's idle threads sleep (OMP_WAIT_POLICY=passive) unless the user
// chose a policy: spinning threads collapse training speed on a shared CPU (issue 13).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const nativeModule = new URL('../../src/tensor/native.js', import.meta.url).href;

function policyAfterLoad(env: NodeJS.ProcessEnv): string {
  const script = `await import(${JSON.stringify(nativeModule)}); console.log(process.env.OMP_WAIT_POLICY);`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' }).trim();
}

test('the addon loads with a passive OpenMP wait policy', () => {
  const { OMP_WAIT_POLICY: _, ...env } = process.env;
  assert.equal(policyAfterLoad(env), 'passive');
});

test("a user's OMP_WAIT_POLICY is kept", () => {
  assert.equal(policyAfterLoad({ ...process.env, OMP_WAIT_POLICY: 'active' }), 'active');
});
