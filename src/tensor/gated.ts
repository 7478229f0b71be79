// x·gate(x) activations as torch.nn.functional's silu, gelu, hardswish and the hardsigmoid gate,
// computed in the addon (native/activation/gated).
import { emptyFloat32 } from './storage.js';
import { native, getThreads } from './native.js';
import { record } from './ops.js';
import { Tensor } from './tensor.js';

const enum Gated { Silu = 0, GeluErf = 1, GeluTanh = 2, Hardswish = 3, Hardsigmoid = 4 }

function gated(x: Tensor, kind: Gated, name: string): Tensor {
  const y = emptyFloat32(x.size);
  native.gatedForward(kind, x.data, y, getThreads());
  return record(new Tensor(y, x.shape), name, [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.gatedBackward(kind, x.data, g.data, dx, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}

/** x·σ(x) */
export function silu(x: Tensor): Tensor {
  return gated(x, Gated.Silu, 'silu');
}

export type GeluApproximate = 'none' | 'tanh';

/** x·Φ(x) with the exact erf, or PyTorch's tanh approximation. */
export function gelu(x: Tensor, approximate: GeluApproximate = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') throw new RangeError(`approximate argument must be either none or tanh, not '${String(approximate)}'`);
  return gated(x, approximate === 'tanh' ? Gated.GeluTanh : Gated.GeluErf, 'gelu');
}

/** x·relu6(x + 3)/6 */
export function hardswish(x: Tensor): Tensor {
  return gated(x, Gated.Hardswish, 'hardswish');
}

/** relu6(x + 3)/6 */
export function hardsigmoid(x: Tensor): Tensor {
  return gated(x, Gated.Hardsigmoid, 'hardsigmoid');
}
