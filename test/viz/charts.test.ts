import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import { renderCurves, curvesSvg, type CurveRow } from '../../src/viz/curves.js';
import { renderConfusionMatrix, confusionSvg } from '../../src/viz/confusion.js';
import { niceTicks } from '../../src/viz/svg.js';
import { withTempDir } from '../helpers/tmp.js';

async function pngFacts(file: string): Promise<[number | undefined, number | undefined, number | undefined, string | undefined]> {
  const m = await sharp(file).metadata();
  return [m.width, m.height, m.channels, m.format];
}

const row = (epoch: number, loss = 1 / epoch): CurveRow => ({ epoch, train_loss: loss, val_loss: loss * 1.2, train_acc: 1 - loss / 2, val_acc: 0.9 - loss / 2, lr: 0.1 / epoch });

test('renderCurves writes a 1500x420 RGB PNG for many epochs, one epoch and no epochs', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const cases: [string, CurveRow[]][] = [
      ['many', Array.from({ length: 30 }, (_, i) => row(i + 1))],
      ['one', [row(1)]],
      ['none', []],
      ['gaps', [row(1), { ...row(2), val_loss: NaN, val_acc: Infinity }, row(3)]],
      ['percent', [{ epoch: 1, train_loss: 2.3, val_loss: 2.2, train_acc: 10, val_acc: 12 }, { epoch: 2, train_loss: 0, val_loss: 0, train_acc: 99, val_acc: 98 }]],
      ['flat', [row(1, 0.5), row(2, 0.5)]],
    ];
    for (const [name, rows] of cases) {
      const file = path.join(dir, `${name}.png`);
      assert.deepEqual(await renderCurves(rows, file), { width: 1500, height: 420 });
      assert.deepEqual(await pngFacts(file), [1500, 420, 3, 'png'], name);
    }
    const svg = curvesSvg([row(1), row(2)]);
    assert.match(svg, />Loss</);
    assert.match(svg, />Accuracy</);
    assert.match(svg, />Learning rate</);
    assert.match(svg, />train</);
    assert.match(svg, />val</);
    assert.doesNotMatch(svg, /NaN|Infinity/);
    assert.doesNotMatch(curvesSvg([row(1), { ...row(2), val_loss: NaN }]), /NaN/);
    assert.match(curvesSvg([]), /no data/);
  } finally {
    cleanup();
  }
});

test('renderConfusionMatrix: counts and row-normalized panels for 1, 10 and 100 classes, long names, empty rows', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const square = (n: number, f: (i: number, j: number) => number) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => f(i, j)));
    const cases: [string, number[][], string[]][] = [
      ['one', [[5]], ['only']],
      ['ten', square(10, (i, j) => (i === j ? 50 : (i + j) % 4)), Array.from({ length: 10 }, (_, i) => `class ${i}`)],
      ['hundred', square(100, (i, j) => (i === j ? 9 : (i * j) % 2)), Array.from({ length: 100 }, (_, i) => `c${i}`)],
      ['long', square(3, (i, j) => i + j), ['a really very extremely long class name that goes on', '<script>&"', 'b']],
      ['zeros', square(4, (i, j) => (i === 2 ? 0 : i + j)), ['w', 'x', 'y', 'z']],
      ['allzero', square(2, () => 0), ['p', 'q']],
    ];
    for (const [name, counts, classes] of cases) {
      const file = path.join(dir, `${name}.png`);
      const size = await renderConfusionMatrix(counts, classes, file);
      const { width, height } = confusionSvg(counts, classes);
      assert.deepEqual(size, { width, height });
      assert.deepEqual(await pngFacts(file), [width, height, 3, 'png'], name);
      assert.ok(width <= 2000 && height <= 1200, `${name}: ${width}x${height}`);
    }
    const ten = confusionSvg(cases[1][1], cases[1][2]).svg;
    assert.match(ten, />Counts</);
    assert.match(ten, />Normalized by true class</);
    assert.match(ten, />class 9</);
    assert.match(ten, />50</);
    assert.match(confusionSvg(cases[4][1], cases[4][2]).svg, />–</, 'an empty row shows a dash, not NaN');
    const long = confusionSvg(cases[3][1], cases[3][2]).svg;
    assert.match(long, /a really very ext…/);
    assert.match(long, /&lt;script&gt;&amp;&quot;/);
    assert.doesNotMatch(confusionSvg(cases[5][1], cases[5][2]).svg, /NaN/);
    // With two classes the grid is still wide enough for 'Normalized by true class' at 18 px.
    const outline = /<rect x="[\d.]+" y="60" width="(\d+)" height="\d+" fill="none"/.exec(confusionSvg(cases[5][1], cases[5][2]).svg);
    assert.ok(outline && Number(outline[1]) >= 260, `grid ${outline?.[1]} px`);
    assert.throws(() => confusionSvg([[1, 2]], ['a']), /1x1 counts/);
    assert.throws(() => confusionSvg([], []), /at least one class/);
    assert.throws(() => confusionSvg([[-1]], ['a']), /non-negative/);
  } finally {
    cleanup();
  }
});

test('niceTicks picks 1/2/5 steps that cover the range', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 2.3, 5), [0, 0.5, 1, 1.5, 2]);
  assert.deepEqual(niceTicks(1, 12, 8), [2, 4, 6, 8, 10, 12]);
  assert.deepEqual(niceTicks(NaN, 1), []);
});
