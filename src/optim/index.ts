// Optimizers and learning-rate schedulers with torch.optim's semantics.
export { Optimizer, type ParamGroup, type ParamGroupInput, type OptimizerState, type ParamState } from './optimizer.js';
export { SGD, type SgdOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { LRScheduler } from './scheduler.js';
export { StepLR, type StepLROptions } from './step-lr.js';
export { MultiStepLR, type MultiStepLROptions } from './multistep-lr.js';
export { ExponentialLR, type ExponentialLROptions } from './exponential-lr.js';
export { CosineAnnealingLR, type CosineAnnealingLROptions } from './cosine-annealing-lr.js';
export { CosineAnnealingWarmRestarts, type CosineAnnealingWarmRestartsOptions } from './cosine-warm-restarts.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions, type PlateauMode, type ThresholdMode } from './reduce-on-plateau.js';
export { OneCycleLR, type OneCycleLROptions, type AnnealStrategy } from './one-cycle-lr.js';
export { LinearLR, type LinearLROptions } from './linear-lr.js';
export { SequentialLR, type SequentialLROptions } from './sequential-lr.js';
export { clipGradNorm, clipGradValue } from './clip-grad.js';
export { OPTIMIZERS, OPTIMIZER_NAMES, buildOptimizer, type OptimizerName } from './optimizers.js';
export { SCHEDULERS, SCHEDULER_NAMES, type SchedulerName } from './schedulers.js';
