export { Tensor, noGrad, isGradEnabled, shapeSize, formatShape } from './tensor.js';
export type { Shape, GradNode, TensorHook, RemovableHandle } from './tensor.js';
export * as ops from './ops.js';
export { Generator, defaultGenerator, manualSeed } from './random.js';
export type { GeneratorState } from './random.js';
export { native, getThreads, setThreads } from './native.js';
export type { ConvParams, CpuInfo } from './native.js';
