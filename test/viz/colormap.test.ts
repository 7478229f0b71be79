import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COLORMAPS, applyColormap, colormapIndex } from '../../src/viz/colormap.js';
import { featureGrid } from '../../src/viz/feature-grid.js';
import { heatmapImage, overlayImage } from '../../src/viz/heatmap.js';
import { Tensor } from '../../src/tensor/tensor.js';

test('jet matches matplotlib at its ends and middle; viridis runs dark purple to yellow', () => {
  const rgb = (name: 'jet' | 'viridis', i: number) => [...COLORMAPS[name].subarray(i * 3, i * 3 + 3)];
  assert.equal(COLORMAPS.jet.length, 768);
  assert.deepEqual(rgb('jet', 0), [0, 0, 127]); // matplotlib cm.jet(0, bytes=True)
  assert.deepEqual(rgb('jet', 255), [127, 0, 0]);
  assert.equal(rgb('jet', 128)[1], 255); // green saturates between x = 0.375 and 0.64
  assert.deepEqual(rgb('jet', 64), [0, Math.trunc(255 * ((64 / 255 - 0.125) / 0.25)), 255]);
  assert.deepEqual(rgb('viridis', 0), [0x44, 0x01, 0x54]);
  assert.deepEqual(rgb('viridis', 255), [0xfd, 0xe7, 0x25]);
  // viridis brightens monotonically (its defining property).
  const luma = (i: number) => { const [r, g, b] = rgb('viridis', i); return 0.299 * r + 0.587 * g + 0.114 * b; };
  for (let i = 1; i < 256; i++) assert.ok(luma(i) >= luma(i - 1) - 0.5, `viridis luma at ${i}`);
});

test('colormapIndex clips and maps NaN to 0', () => {
  assert.equal(colormapIndex(0), 0);
  assert.equal(colormapIndex(1), 255);
  assert.equal(colormapIndex(0.5), 128);
  assert.equal(colormapIndex(-1), 0);
  assert.equal(colormapIndex(7), 255);
  assert.equal(colormapIndex(NaN), 0);
  assert.deepEqual([...applyColormap([0, 1], 'jet')], [0, 0, 127, 127, 0, 0]);
});

test('heatmap and overlay are at the requested size; overlay blends with alpha', () => {
  const heat = heatmapImage([0, 1, 1, 0], 2, 2, 5, 3);
  assert.deepEqual([heat.width, heat.height, heat.data.length], [5, 3, 45]);
  const gray = { data: new Uint8Array(15).fill(100), width: 5, height: 3, channels: 1 as const };
  const o = overlayImage(heat, gray, 0.25);
  for (let i = 0; i < 45; i++) assert.equal(o.data[i], Math.round(0.25 * heat.data[i] + 75));
  assert.deepEqual([...overlayImage(heat, gray, 0).data], Array(45).fill(100));
  assert.throws(() => overlayImage(heat, gray, 1.5), /alpha/);
  assert.throws(() => overlayImage(heat, { ...gray, width: 4, data: new Uint8Array(12) }, 0.5), /differ in size/);
});

test('featureGrid tiles the first channels, each normalized on its own', () => {
  const act = Tensor.from(Array.from({ length: 5 * 2 * 2 }, (_, i) => i * (i % 3)), [1, 5, 2, 2]);
  const g = featureGrid(act, { channels: 3, minTileSize: 4, gap: 1 });
  assert.deepEqual([g.channelsShown, g.columns, g.rows, g.width, g.height], [3, 2, 2, 9, 9]);
  assert.equal(g.data.length, 9 * 9 * 3);
  const all = featureGrid(act, { channels: 100 });
  assert.equal(all.channelsShown, 5);
  const flat = featureGrid(Tensor.zeros([2, 3, 3]), { channels: 1, minTileSize: 3 });
  assert.deepEqual([...flat.data.subarray(0, 3)], [...COLORMAPS.viridis.subarray(0, 3)], 'a flat channel shows as the lowest colour, not NaN');
  assert.throws(() => featureGrid(Tensor.zeros([4, 4])), /1xCxHxW/);
});
