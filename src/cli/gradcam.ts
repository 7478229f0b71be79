// `cnn gradcam`: where in the image the network looked for its answer. Writes a jet heatmap
// and an overlay at each image's own size and prints the class, its probability and the layer.
import type { Command } from 'commander';
import { makeFolder } from '../io/folders.js';
import { choiceRow, numberRow, textRow } from '../option-row.js';
import { ALLOW_NONFINITE_ROW, ALLOW_SVG_ROW, MAX_PIXELS_ROW, NEWEST_CHECKPOINT_ROW, jsonRow } from './shared-rows.js';
import { computingCommand, type CommandOptions } from './threads.js';

const group = 'command';

const GRADCAM_ROWS = [
  NEWEST_CHECKPOINT_ROW,
  textRow('class', '--class <k|name>', { defaultText: 'the predicted class', help: 'class to explain', group }),
  textRow('layer', '--layer <path>', { defaultText: 'the last conv layer with at least a 2x2 output', help: 'module path of the layer', group }),
  choiceRow('method', '--method <name>', () => ['gradcam', 'gradcam++'] as const, { default: 'gradcam', help: 'gradcam or gradcam++', group }),
  numberRow('alpha', '--alpha <a>', { min: 0, max: 1, expected: 'a number between 0 and 1', default: 0.5, help: 'heatmap weight in the overlay, 0 to 1', group }),
  textRow('out', '--out <dir>', { defaultText: 'beside each image', help: 'folder for the PNGs', group }),
  MAX_PIXELS_ROW,
  ALLOW_SVG_ROW,
  ALLOW_NONFINITE_ROW,
  jsonRow('print a JSON array, one object per image'),
] as const;

type GradcamOptions = CommandOptions<typeof GRADCAM_ROWS>;

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

export function addGradcamCommand(program: Command): void {
  computingCommand(program, 'gradcam', 'Grad-CAM heatmaps: which parts of each image raised the class score', GRADCAM_ROWS)
    .argument('<images...>', 'image files (PNG, JPEG, WebP, ...)')
    .action(async (images: string[], opts: GradcamOptions) => {
      const { method, alpha } = opts;
      const { gradCam, findLayer } = await import('../viz/gradcam.js');
      const { heatmapImage, overlayImage } = await import('../viz/heatmap.js');
      const { writePng } = await import('../io/image.js');
      const { loadModelForImages, readImageForModel, modelLine, resolveClass, outputPath } = await import('./image-model.js');
      const loaded = loadModelForImages(opts.checkpoint, { allowNonFinite: opts.allowNonFinite });
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
