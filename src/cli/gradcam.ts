// `cnn gradcam`: where in the image the network looked for its answer. Writes a jet heatmap
// and an overlay at each image's own size and prints the class, its probability and the layer.
import type { Command } from 'commander';
import { makeFolder } from '../io/folders.js';
import { addAllowNonFiniteOption, type AllowNonFiniteOption } from './nonfinite-option.js';
import { addThreadsOption, applyThreadsOption, type ThreadsOption } from './threads.js';
import { UserError } from './errors.js';
import { ALLOW_SVG_HELP, parseMaxPixels } from './image-options.js';

interface GradcamOptions extends ThreadsOption {
  checkpoint?: string;
  class?: string;
  layer?: string;
  method: string;
  alpha: string;
  out?: string;
  json?: boolean;
  maxPixels?: number;
  allowSvg?: boolean;
}

export interface GradcamReport {
  file: string;
  class: string;
  classIndex: number;
  probability: number;
  layer: string;
  method: string;
  allZero: boolean;
  heatmap: string;
  overlay: string;
  /** The map at the layer's resolution, rows of values in [0,1]. */
  cam: number[][];
}

function parseAlpha(value: string): number {
  const a = Number(value);
  if (value.trim() === '' || !(a >= 0 && a <= 1)) throw new UserError(`Expected a number between 0 and 1 for --alpha but received '${value}'`);
  return a;
}

export function addGradcamCommand(program: Command): void {
  addThreadsOption(addAllowNonFiniteOption(program.command('gradcam')
    .description('Grad-CAM heatmaps: which parts of each image raised the class score')
    .argument('<images...>', 'image files (PNG, JPEG, WebP, ...)')
    .option('--checkpoint <file>', 'checkpoint (default: the newest runs/**/best.bin)')
    .option('--class <k|name>', 'class to explain (default: the predicted class)')
    .option('--layer <path>', 'module path of the layer (default: the last conv layer with at least a 2x2 output)')
    .option('--method <name>', 'gradcam or gradcam++', 'gradcam')
    .option('--alpha <a>', 'heatmap weight in the overlay, 0 to 1', '0.5')
    .option('--out <dir>', 'folder for the PNGs (default: beside each image)')
    .option('--max-pixels <n>', 'refuse images with more pixels than this (default: 67108864, 64 megapixels)', parseMaxPixels)
    .option('--allow-svg', ALLOW_SVG_HELP)
    .option('--json', 'print a JSON array, one object per image')))
    .action(async (images: string[], opts: GradcamOptions & AllowNonFiniteOption) => {
      await applyThreadsOption(opts);
      if (opts.method !== 'gradcam' && opts.method !== 'gradcam++') throw new UserError(`Expected gradcam or gradcam++ for --method but received '${opts.method}'`);
      const method = opts.method;
      const alpha = parseAlpha(opts.alpha);
      const { gradCam, findLayer } = await import('../viz/gradcam.js');
      const { heatmapImage, overlayImage } = await import('../viz/heatmap.js');
      const { writePng } = await import('../io/image.js');
      const { loadModelForImages, readImageForModel, modelLine, resolveClass, outputPath } = await import('./image-model.js');
      const loaded = loadModelForImages(opts.checkpoint, { allowNonFinite: opts.allowNonfinite });
      (opts.json ? console.error : console.log)(modelLine(loaded));
      const classes = loaded.checkpoint.dataset.classes ?? [];
      const numClasses = loaded.checkpoint.model.numClasses;
      const classIndex = opts.class === undefined ? undefined : resolveClass(opts.class, classes, numClasses);
      // An unknown layer is reported before any image is read.
      if (opts.layer !== undefined) findLayer(loaded.model, opts.layer!);
      if (opts.out) makeFolder(opts.out);
      const reports: GradcamReport[] = [];
      for (const file of images) {
        const { image, input, mismatch } = await readImageForModel(file, loaded, { maxPixels: opts.maxPixels, allowSvg: opts.allowSvg });
        if (mismatch) (opts.json ? console.error : console.log)(mismatch);
        const r = gradCam(loaded.model, input, { layer: opts.layer, classIndex, method });
        const [h, w] = r.cam.shape;
        const heat = heatmapImage(r.cam.data, h, w, image.width, image.height, 'jet');
        const overlay = overlayImage(heat, image, alpha);
        const heatmapFile = outputPath(file, opts.out, '.gradcam.png');
        const overlayFile = outputPath(file, opts.out, '.overlay.png');
        await writePng(heatmapFile, heat.data, heat.width, heat.height);
        await writePng(overlayFile, overlay.data, overlay.width, overlay.height);
        const name = classes[r.classIndex] ?? String(r.classIndex);
        const report: GradcamReport = {
          file, class: name, classIndex: r.classIndex, probability: r.probability, layer: r.layer, method, allZero: r.allZero,
          heatmap: heatmapFile, overlay: overlayFile,
          cam: Array.from({ length: h }, (_, y) => Array.from(r.cam.data.subarray(y * w, (y + 1) * w), (v) => Number(v.toFixed(6)))),
        };
        reports.push(report);
        if (!opts.json) {
          console.log(`${file}: ${name} (class ${r.classIndex}) p=${r.probability.toFixed(4)}, layer ${r.layer} (${h}x${w}), ${method}`);
          console.log(`  heatmap ${heatmapFile}`);
          console.log(`  overlay ${overlayFile}`);
          if (r.allZero) console.log(`  the map is empty: no part of layer ${r.layer} raises the score of ${name}`);
        }
      }
      if (opts.json) console.log(JSON.stringify(reports));
    });
}
