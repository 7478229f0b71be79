export { loadSafetensors, saveSafetensors, encodeSafetensors, decodeSafetensors, SafetensorsError } from './safetensors.js';
export type { SafetensorsFile, DType, Entry } from './safetensors.js';
export { readImage, writePng, ImageError, DEFAULT_MAX_PIXELS } from './image.js';
export type { DecodedImage, ReadImageOptions } from './image.js';
