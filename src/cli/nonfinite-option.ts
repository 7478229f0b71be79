// --allow-nonfinite: every command that loads a checkpoint refuses NaN/Inf weights without it.
import type { Command } from 'commander';

export interface AllowNonFiniteOption {
  allowNonfinite?: boolean;
}

export function addAllowNonFiniteOption(cmd: Command): Command {
  return cmd.option('--allow-nonfinite', 'load a checkpoint even if its weights hold NaN or Inf');
}
