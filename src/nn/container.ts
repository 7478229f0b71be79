import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { permute } from '../tensor/channels.js';
import { Module } from './module.js';

/** Children named '0', '1', ... run in order, as torch.nn.Sequential. */
export class Sequential extends Module {
  private readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }

  get length(): number {
    return this.layers.length;
  }

  at(index: number): Module {
    const m = this.layers.at(index);
    if (!m) throw new RangeError(`index ${index} is out of range for Sequential of length ${this.layers.length}`);
    return m;
  }

  forward(x: Tensor): Tensor {
    for (const m of this.layers) x = m.call(x);
    return x;
  }
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
    const nd = x.ndim;
    const s = this.startDim < 0 ? nd + this.startDim : this.startDim;
    const e = this.endDim < 0 ? nd + this.endDim : this.endDim;
    if (s < 0 || e >= nd || s > e) throw new RangeError(`Flatten: dims ${this.startDim}..${this.endDim} are out of range for a ${nd}-D input`);
    const merged = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
    return ops.reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
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
  private readonly layers: Module[];

  constructor(entries: readonly (readonly [string, Module])[]) {
    super();
    this.layers = entries.map(([name, m]) => this.registerModule(name, m));
  }

  forward(x: Tensor): Tensor {
    for (const m of this.layers) x = m.call(x);
    return x;
  }
}
