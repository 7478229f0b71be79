// Width and height from a JPEG's or PNG's header bytes, read on the JS thread: sampling a crop box
// needs the original's size, and asking libvips for it would cost a trip through the thread pool
// per image. Other formats (or anything unusual) return null and are asked of sharp.

/** [width, height] of a PNG (IHDR) or baseline/progressive JPEG (SOFn), else null. */
export function headerDimensions(b: Uint8Array): [number, number] | null {
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[12] === 0x49 && b[13] === 0x48 && b[14] === 0x44 && b[15] === 0x52) {
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const w = view.getUint32(16), h = view.getUint32(20);
    return w > 0 && h > 0 ? [w, h] : null;
  }
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    // Markers without a length: TEM and RSTn.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const length = (b[i + 2]! << 8) | b[i + 3]!;
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const h = (b[i + 5]! << 8) | b[i + 6]!, w = (b[i + 7]! << 8) | b[i + 8]!;
      return w > 0 && h > 0 ? [w, h] : null;
    }
    if (marker === 0xda || length < 2) return null;
    i += 2 + length;
  }
  return null;
}
