export { loadSafetensors, saveSafetensors, encodeSafetensors, decodeSafetensors, SafetensorsError } from './safetensors.js';
export type { SafetensorsFile, DType, Entry } from './safetensors.js';
