export { loadSafetensors, saveSafetensors, encodeSafetensors, decodeSafetensors, SafetensorsError } from './safetensors.js';
export type { SafetensorsFile, DType, Entry } from './safetensors.js';
export { readImage, writePng, ImageError, DEFAULT_MAX_PIXELS } from './image.js';
export type { DecodedImage, ReadImageOptions } from './image.js';
export { OnnxGraph, encodeOnnxModel } from './onnx.js';
export { foldBatchNorms } from './onnx-fold-bn.js';
export type { OnnxNode, OnnxInitializer, OnnxAttribute, OnnxValueInfo, OnnxModelInfo } from './onnx.js';
