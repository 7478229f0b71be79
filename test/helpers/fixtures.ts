// Reads the golden files that test/fixtures/gen.py writes with PyTorch.
import { fileURLToPath } from 'node:url';
import { loadSafetensors } from '../../src/io/safetensors.js';
import type { Tensor } from '../../src/tensor/tensor.js';

/** Repository root, from dist/test/helpers/ at run time. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface FixtureCase<P = Record<string, unknown>> {
  name: string;
  params: P;
  /** Fields of this case by name: x, weight, y, gx, ... */
  t: Record<string, Tensor>;
}

export function loadFixture<P = Record<string, unknown>>(file: string): FixtureCase<P>[] {
  const f = loadSafetensors(`${repoRoot}test/fixtures/${file}`);
  const cases = JSON.parse(f.metadata.cases) as (P & { name: string })[];
  return cases.map((params) => {
    const t: Record<string, Tensor> = {};
    for (const [key, tensor] of f.tensors) {
      const slash = key.lastIndexOf('/');
      if (key.slice(0, slash) === params.name) t[key.slice(slash + 1)] = tensor;
    }
    return { name: params.name, params, t };
  });
}
