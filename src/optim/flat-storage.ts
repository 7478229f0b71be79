// An optimizer's parameters, gradients and per-parameter state as views of one contiguous buffer
// each (in the order of the parameter groups), so an update is one native call over every
// parameter of a group that steps alike, and an all-reduce or a norm can take one buffer.
import type { Tensor } from '../tensor/tensor.js';

export class FlatStorage {
  readonly data: Float32Array;
  readonly grad: Float32Array;
  private readonly offsets = new Map<Tensor, number>();
  /** State buffers by name (exp_avg, momentum_buffer, ...), each as long as data, made on first use. */
  private readonly state = new Map<string, Float32Array>();

  constructor(params: readonly Tensor[]) {
    let total = 0;
    for (const p of params) {
      this.offsets.set(p, total);
      total += p.size;
    }
    this.data = new Float32Array(total);
    this.grad = new Float32Array(total);
    for (const p of params) p.moveToFlatStorage(this.view(this.data, p), this.view(this.grad, p));
  }

  private view(buffer: Float32Array, p: Tensor): Float32Array {
    const at = this.offsets.get(p)!;
    return buffer.subarray(at, at + p.size);
  }

  /** Where p starts in the flat buffers, or undefined for a tensor this storage does not hold. */
  offsetOf(p: Tensor): number | undefined {
    return this.offsets.get(p);
  }

  /** p's gradient is in its place in grad (not one a caller assigned to .grad). */
  hasFlatGrad(p: Tensor): boolean {
    const g = p.grad;
    return g !== null && g.data.buffer === this.grad.buffer && g.data.byteOffset === this.grad.byteOffset + 4 * this.offsets.get(p)!;
  }

  /** State `name` of p: a view of the flat buffer. */
  stateOf(name: string, p: Tensor): Float32Array {
    let buffer = this.state.get(name);
    if (!buffer) this.state.set(name, (buffer = new Float32Array(this.data.length)));
    return this.view(buffer, p);
  }

  /** The elements of consecutive parameters first..last in buffer `of` ('data', 'grad' or a state name). */
  range(of: string, first: Tensor, last: Tensor): Float32Array {
    const buffer = of === 'data' ? this.data : of === 'grad' ? this.grad : this.state.get(of)!;
    return buffer.subarray(this.offsets.get(first)!, this.offsets.get(last)! + last.size);
  }
}
