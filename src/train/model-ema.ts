// --ema DECAY: timm's ModelEmaV2 — a copy of the model whose every state-dict entry (parameters
// and buffers) follows ema = decay·ema + (1−decay)·value after each optimizer step. Integer
// buffers (num_batches_tracked) are copied back into their dtype, truncated as torch's copy_ does.
import { noGrad } from '../tensor/tensor.js';
import { native, getThreads } from '../tensor/native.js';
import { weightsChanged } from '../tensor/weights-generation.js';
import type { Module } from '../nn/module.js';

export class ModelEma {
  /** `module` starts as a copy of the model's weights (ModelEmaV2's deepcopy). */
  constructor(readonly module: Module, readonly decay: number, model?: Module) {
    if (!(decay >= 0 && decay <= 1)) throw new RangeError(`ModelEma: decay must be in [0, 1] but is ${decay}`);
    if (model) module.loadStateDict(model.stateDict());
    module.eval();
    module.requiresGrad(false);
  }

  update(model: Module): void {
    const d = this.decay;
    const own = this.module.stateDict();
    const int64 = this.module.int64Keys();
    noGrad(() => {
      for (const [k, t] of model.stateDict()) {
        const e = own.get(k)!.data, v = t.data;
        if (int64.has(k)) {
          for (let i = 0; i < e.length; i++) e[i] = Math.trunc(Math.fround(e[i] * d + (1 - d) * v[i]));
        } else {
          // Natively, in float32 as torch's ema·decay + (1−decay)·value (a JS loop over ResNet-18's
          // 11.7 M floats took 25 ms a step, a seventh of the step itself).
          native.scale(d, e, e, getThreads());
          native.axpy(1 - d, v, e, getThreads());
        }
      }
    });
    // Eval's caches derived from weights (folded BatchNorm, packed Linear weights) rebuild.
    weightsChanged();
  }
}
