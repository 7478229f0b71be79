import type { Tensor } from '../tensor/tensor.js';
import { crossEntropy } from '../tensor/loss.js';

export interface CrossEntropyLossOptions {
  weight?: Tensor;
  labelSmoothing?: number;
  reduction?: 'mean' | 'sum' | 'none';
  ignoreIndex?: number;
}

/** torch.nn.CrossEntropyLoss over logits (N, C) and class indices (N). */
export class CrossEntropyLoss {
  constructor(readonly options: CrossEntropyLossOptions = {}) {
    const s = options.labelSmoothing ?? 0;
    if (!(s >= 0 && s <= 1)) throw new RangeError(`label_smoothing must be between 0.0 and 1.0. Got: ${s}`);
  }

  call(logits: Tensor, target: Int32Array | readonly number[]): Tensor {
    return crossEntropy(logits, target, this.options);
  }
}
