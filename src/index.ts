// The library's face: a program can do what the CLI does.
export * from './tensor/index.js';
export * as io from './io/index.js';
export * as data from './data/index.js';
export * as optim from './optim/index.js';
export * as viz from './viz/index.js';
export * as nn from './nn/index.js';
export * as models from './models/index.js';
export * as train from './train/index.js';
export { CnnError, ConfigError, type ExitCode } from './errors.js';
