// The image the reference transforms work on: float32 CHW in [0,1] after toTensor, as a
// torchvision tensor. The native augmenter works on the same representation.

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

export interface FloatImage extends ImageShape {
  /** channels × height × width, row-major. */
  data: Float32Array;
}

export function emptyImage(channels: number, height: number, width: number): FloatImage {
  return { channels, height, width, data: new Float32Array(channels * height * width) };
}

/** torchvision's to_tensor on uint8 CHW data: x / 255. */
export function toTensorImage(pixels: Uint8Array, shape: ImageShape): FloatImage {
  const n = shape.channels * shape.height * shape.width;
  if (pixels.length !== n) {
    throw new RangeError(`expected ${n} pixels for a ${shape.channels}x${shape.height}x${shape.width} image but received ${pixels.length}`);
  }
  const img = emptyImage(shape.channels, shape.height, shape.width);
  for (let i = 0; i < n; i++) img.data[i] = pixels[i] / 255;
  return img;
}

export function formatImageShape(s: ImageShape): string {
  return `${s.channels}x${s.height}x${s.width}`;
}
