// --profile for a model: a started Profiler that knows the model's layers by their state-dict paths.
import { Profiler } from '../tensor/profile.js';
import type { Module } from './module.js';

export function profileModel(model: Module): Profiler {
  return new Profiler([...model.namedModules()].map(([path, m]) => [path, m, m.constructor.name] as [string, object, string])).start();
}
