// Which samples of an epoch one rank of a data-parallel job takes (PyTorch's DistributedSampler,
// drop_last off): every rank draws the same order, and rank r takes positions r, r+N, r+2N, …
// For training the order is first padded by wrapping to a multiple of N, so every rank has as
// many samples and steps; for evaluation it is not, so the summed metrics count each sample once.

export interface Shard {
  rank: number;
  /** Ranks in the job. */
  size: number;
  /** Pad by wrapping so every rank gets the same number of samples (training). */
  pad: boolean;
}

export function checkShard(shard: Shard): Shard {
  const { rank, size } = shard;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`shard size must be a positive integer but is ${size}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= size) throw new RangeError(`shard rank must be an integer in [0, ${size - 1}] but is ${rank}`);
  return shard;
}

/** Samples the rank takes from an epoch of count. */
export function shardLength(count: number, { rank, size, pad }: Shard): number {
  return pad ? Math.ceil(count / size) : Math.max(0, Math.ceil((count - rank) / size));
}

/**
 * Positions in the (padded) epoch order that the rank takes, in order. A position p ≥ count
 * is padding and stands for order[p mod count].
 */
export function shardPositions(count: number, shard: Shard): Int32Array {
  const n = shardLength(count, shard);
  const out = new Int32Array(n);
  for (let k = 0; k < n; k++) out[k] = shard.rank + k * shard.size;
  return out;
}
