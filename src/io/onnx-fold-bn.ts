// Folds each BatchNormalization that is the only reader of a Conv's output into that Conv
// (foldBatchNorm's arithmetic). A graph pass, so a convolution output that anything else reads
// is never folded away.
import { foldBatchNorm } from '../nn/fold-batch-norm.js';
import type { OnnxGraph, OnnxInitializer } from './onnx.js';

type FloatInitializer = OnnxInitializer & { data: Float32Array };

/** Returns how many BatchNormalization nodes were folded. */
export function foldBatchNorms(graph: OnnxGraph): number {
  let folded = 0;
  for (const bn of graph.nodes.filter((n) => n.opType === 'BatchNormalization')) {
    const conv = graph.producerOf(bn.inputs[0]);
    if (conv?.opType !== 'Conv' || graph.usesOf(bn.inputs[0]) !== 1) continue;
    const floats = (name: string | undefined): FloatInitializer | null => {
      const t = name === undefined ? undefined : graph.initializers.get(name);
      return t && t.data instanceof Float32Array ? (t as FloatInitializer) : null;
    };
    const weight = floats(conv.inputs[1]);
    const bias = conv.inputs[2] ? floats(conv.inputs[2]) : null;
    const [gamma, beta, mean, variance] = bn.inputs.slice(1, 5).map(floats);
    const epsilon = bn.attributes.epsilon;
    // Only weights this convolution alone reads can be rewritten.
    if (!weight || graph.usesOf(weight.name) !== 1 || (conv.inputs[2] && (!bias || graph.usesOf(bias.name) !== 1))) continue;
    if (!gamma || !beta || !mean || !variance || !epsilon || !('float' in epsilon)) continue;
    const out = weight.dims[0];
    const { weight: w, bias: b } = foldBatchNorm(weight.data, bias ? bias.data : null, out,
      { gamma: gamma.data, beta: beta.data, mean: mean.data, variance: variance.data, eps: epsilon.float });
    weight.data = w;
    if (bias) bias.data = b;
    else conv.inputs[2] = graph.addFloats(`${conv.name}.bias`, [out], b);
    conv.outputs = [...bn.outputs];
    graph.removeNode(bn);
    folded++;
  }
  graph.dropUnusedInitializers();
  return folded;
}
