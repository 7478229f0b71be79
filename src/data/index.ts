// Data: datasets by name (readers, downloads, splitting), transforms with torchvision's
// semantics, presets, the native batch augmenter and the loader.
export type { FloatImage, ImageShape } from './image.js';
export { toTensorImage } from './image.js';
export * as functional from './functional.js';
export * from './transforms.js';
export {
  AutoAugment, RandAugment, TrivialAugmentWide, augmentationSpace, parseAutoAugment, autoAugmentProblem, autoAugmentTransform, formatAutoAugment,
  AUTO_AUGMENT_OPS, IMAGENET_POLICY, CIFAR10_POLICY, SVHN_POLICY, TIMM_LEVEL_DENOM,
  type AutoAugmentOptions, type RandAugmentOptions, type TrivialAugmentWideOptions, type AutoAugmentCommonOptions,
  type AutoAugmentSpec, type AutoAugmentOpName, type AutoAugmentPolicy,
} from './auto-augment.js';
export * from './presets.js';
export { planAugment, augmentBatch, augmentBatchAsync, augmentBatchReference, drawSeeds, type AugmentPlan } from './augment.js';
export { DataLoader, EpochLoader, type DataLoaderOptions, type Batch } from './loader.js';
export * from './dataset.js';
export * from './errors.js';
export * from './registry.js';
export { splitDataset, subsetDataset, splitIndices } from './split.js';
export { downloadFile, acceptedChecksums, DEFAULT_USER_AGENT, type RemoteFile, type DownloadOptions, type DownloadProgress } from './download.js';
export { verifyFile, hashFile, type FileChecksum, type HashAlgorithm } from './checksum.js';
export { extractTarGz, listTarGz, safeEntryPath, type TarEntryInfo } from './tar.js';
export { parseIdx, readIdxFile, encodeIdx, type IdxArray } from './idx.js';
export { dataRoot, datasetDir, packageDataDir, type DataLocationOptions } from './location.js';
export { loadImageFolder, scanImageFolder, IMAGE_EXTENSIONS, type ImageFolderOptions } from './imagefolder.js';
export type { Cifar100Dataset } from './cifar100.js';
export { preprocessForModel, imageToFloat, type ModelInputFacts } from './preprocess.js';
export { indexImageFolder, listImageFolder, TORCHVISION_IMAGE_EXTENSIONS, type FileIndex } from './file-index.js';
export { readLabelsFile } from './csv-labels.js';
export { openImageFiles, splitImageFiles, subsetImageFiles, usesLabelsFiles, type ImageFilesOptions } from './image-files.js';
export { decodeCrop, cropOutputSize, type CropSpec } from './crop-decode.js';
export { photoTransforms, defaultEvalResize, type PhotoTransformOptions } from './photo-transforms.js';
export { StreamingLoader, IMAGENET_STATS, type ImageFiles, type StreamingLoaderOptions } from './stream-loader.js';
export { imagenetFacts, type ImagenetFacts, type ImagenetPreprocessing, type ImagenetWeights } from './imagenet.js';
export { ensurePretrained, fetchWeights, pretrainedFile, pretrainedModels, weightsDir, type PretrainedOptions } from './pretrained.js';
export { openPhotoSplits, openPhotoValidation, describeEvalTransform, type PhotoRunOptions } from './photo-splits.js';
