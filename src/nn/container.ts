import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { permute } from '../tensor/channels.js';
import { Module } from './module.js';
import { runLayers } from './fusion.js';
import { runSmallNetwork } from './small-network.js';

/**
 * Children named '0', '1', ... run in order, as torch.nn.Sequential. Each is also the property
 * of its index, so `seq[3] = new Conv2d(...)` replaces the fourth layer everywhere (forward,
 * parameters(), stateDict(), hooks), as PyTorch's __setitem__ does.
 */
export class Sequential extends Module {
  [index: number]: Module;

  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => { this[i] = m; });
  }

  get length(): number {
    return [...this.children()].length;
  }

  at(index: number): Module {
    const layers = [...this.children()];
    const m = layers.at(index);
    if (!m) throw new RangeError(`index ${index} is out of range for Sequential of length ${layers.length}`);
    return m;
  }

  forward(x: Tensor): Tensor {
    const layers = [...this.children()];
    // A whole small network (convolutions, flatten, Linear layers) in eval: one native call.
    return runSmallNetwork(layers, x) ?? runLayers(layers, x);
  }
}

/** Flattens axes startDim..endDim into one, as torch.flatten. */
export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor {
  const nd = x.ndim;
  const s = startDim < 0 ? nd + startDim : startDim;
  const e = endDim < 0 ? nd + endDim : endDim;
  if (s < 0 || e >= nd || s > e) throw new RangeError(`Flatten: dims ${startDim}..${endDim} are out of range for a ${nd}-D input`);
  const merged = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return ops.reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens axes startDim..endDim into one (defaults 1..-1, as torch.nn.Flatten). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** x.permute(dims), as torchvision.ops.Permute (ConvNeXt's NCHW <-> NHWC); see tensor permute for the supported dims. */
export class Permute extends Module {
  readonly dims: readonly number[];

  constructor(dims: readonly number[]) {
    super();
    this.dims = [...dims];
  }

  forward(x: Tensor): Tensor {
    return permute(x, this.dims);
  }
}

/** Named children run in order, as torch.nn.Sequential(OrderedDict(...)) (DenseNet's features, RegNet's stages). */
export class NamedSequential extends Module {
  constructor(entries: readonly (readonly [string, Module])[]) {
    super();
    for (const [name, m] of entries) this.registerModule(name, m);
  }

  forward(x: Tensor): Tensor {
    return runLayers([...this.children()], x);
  }
}
