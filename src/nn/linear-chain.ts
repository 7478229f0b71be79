// Eval's run of Linear layers, each optionally followed by ReLU/ReLU6 (LeNet's and VGG's
// classifier heads), as one native call (native/gemm/small_chain.h): each thread carries a few
// rows of the batch through every layer, bias and activation applied as each layer's product is
// stored, with each layer's weights packed once per weights generation (weights-generation.ts,
// as eval's BatchNorm folding) instead of on every call. Only without a gradient to record and
// without hooks on any of the layers; elsewhere the layers run one by one.
import { Tensor, isGradEnabled } from '../tensor/tensor.js';
import { emptyFloat32 } from '../tensor/storage.js';
import { native, getThreads, type LinearChainLayer } from '../tensor/native.js';
import { weightsGeneration } from '../tensor/weights-generation.js';
import type { Module } from './module.js';
import { Linear } from './linear.js';
import { Dropout } from './dropout.js';
import { activationClamp } from './fusion.js';

interface Packed {
  generation: number;
  /** The storage packed, so replacing a tensor or its data repacks. */
  weight: Float32Array;
  buffer: Float32Array;
}

const packs = new WeakMap<Linear, Packed>();

/** The layer's packed-weights buffer, and whether its weights changed since it was last packed. */
function packedFor(layer: Linear): { buffer: Float32Array; fresh: boolean } {
  const cached = packs.get(layer), generation = weightsGeneration();
  if (cached && cached.generation === generation && cached.weight === layer.weight.data) return { buffer: cached.buffer, fresh: false };
  const length = native.linearChainPackedLength(layer.outFeatures, layer.inFeatures);
  const buffer = cached && cached.buffer.length === length ? cached.buffer : new Float32Array(length);
  packs.set(layer, { generation, weight: layer.weight.data, buffer });
  return { buffer, fresh: true };
}

/** layer as one layer of a native chain, clamped to clamp (none: undefined), its weights packed once per weights generation. */
export function chainLayer(layer: Linear, clamp: [number, number] | undefined): LinearChainLayer {
  const { buffer, fresh } = packedFor(layer);
  return { inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, weight: layer.weight.data, bias: layer.bias ? layer.bias.data : null,
    clamp: clamp ?? [-Infinity, Infinity], packed: buffer, fresh };
}

/** A Dropout in eval mode without hooks: the identity, as torch's (simplecnn's and VGG's heads put one between their Linears). */
function identityInEval(m: Module | undefined): boolean {
  return m instanceof Dropout && !m.training && !m.hasHooks();
}

/**
 * layers[i], a Linear, and the Linear (→ ReLU/ReLU6) (→ Dropout in eval) layers that follow it,
 * on a 2-D x as one chain; null where they may not fuse (a gradient to record, a hook, another
 * input shape, a lone Linear without an activation). Returns the output and how many layers it used.
 */
export function runLinearChain(layers: readonly Module[], i: number, x: Tensor): [Tensor, number] | null {
  if (isGradEnabled() || x.ndim !== 2) return null;
  const chain: LinearChainLayer[] = [];
  let j = i, width = x.shape[1];
  for (let layer = layers[j]; layer instanceof Linear && !layer.hasHooks() && layer.inFeatures === width; layer = layers[j]) {
    const clamp = activationClamp(layers[j + 1]);
    chain.push(chainLayer(layer, clamp));
    width = layer.outFeatures;
    j += clamp ? 2 : 1;
    if (identityInEval(layers[j])) j++;
  }
  // A single Linear with nothing to fuse keeps its own path.
  if (chain.length === 0 || (chain.length === 1 && j === i + 1)) return null;
  const m = x.shape[0];
  const y = emptyFloat32(m * width);
  native.linearChainForward({ m, layers: chain }, x.data, y, getThreads());
  return [new Tensor(y, [m, width]), j - i];
}
