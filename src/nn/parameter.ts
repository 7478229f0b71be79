// nn.Parameter: a tensor that a module registers as a parameter when it is assigned to one of
// the module's properties (`layer.weight = new Parameter(t)`), as PyTorch's __setattr__ does.
import { Tensor } from '../tensor/tensor.js';

export class Parameter extends Tensor {
  /** Shares `tensor`'s storage, as torch.nn.Parameter(data) does. */
  constructor(tensor: Tensor, requiresGrad = true) {
    super(tensor.data, tensor.shape, requiresGrad);
  }
}
