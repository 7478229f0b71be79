// Runs fn with Auto's Winograd in training on or off (native.setWinogradTraining), then back on (the default).
import { native } from '../../src/tensor/native.js';

export function withWinogradTraining<T>(on: boolean, fn: () => T): T {
  native.setWinogradTraining(on);
  try {
    return fn();
  } finally {
    native.setWinogradTraining(true);
  }
}
