// Storage for kernel outputs that the kernel overwrites in full. `new Float32Array(n)` zero-fills,
// which for a 16 MB activation costs about as much as the ReLU that writes it; large outputs come
// uninitialized from Buffer.allocUnsafeSlow instead (its own ArrayBuffer, 8-byte aligned at 0).
const SMALL = 16 * 1024;

// CNN_POISON_EMPTY=1 turns poisoning on for a whole run (npm test with it set must still pass).
let poison = process.env.CNN_POISON_EMPTY === '1';

/** Tests: fill every uninitialized output with NaN, so a kernel that leaves a gap shows up. */
export function setPoisonEmpty(on: boolean): void {
  poison = on;
}

type AllocationWatch = (bytes: number, allocate: () => Float32Array) => Float32Array;
let watch: AllocationWatch | null = null;

/** --profile: times and counts every allocation through emptyFloat32 (null: stop). */
export function setAllocationWatch(w: AllocationWatch | null): void {
  watch = w;
}

/** A Float32Array of n elements whose contents are unspecified; the caller writes all of them. */
export function emptyFloat32(n: number): Float32Array {
  return watch ? watch(n * 4, () => allocate(n)) : allocate(n);
}

function allocate(n: number): Float32Array {
  if (poison) return new Float32Array(n).fill(NaN);
  if (n < SMALL) return new Float32Array(n);
  return new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
}
