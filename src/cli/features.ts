// `cnn features`: what chosen layers see in an image, as one PNG grid of channels per layer.
import type { Command } from 'commander';
import { makeFolder } from '../io/folders.js';
import { numberRow, textRow } from '../option-row.js';
import { ALLOW_NONFINITE_ROW, ALLOW_SVG_ROW, MAX_PIXELS_ROW, NEWEST_CHECKPOINT_ROW, jsonRow } from './shared-rows.js';
import { computingCommand, type CommandOptions } from './threads.js';
import { UserError } from './errors.js';

const group = 'command';

const FEATURES_ROWS = [
  textRow('layers', '--layers <paths>', { required: true, help: 'comma-separated module paths (e.g. conv1,layer1 or features.0)', group }),
  NEWEST_CHECKPOINT_ROW,
  numberRow('channels', '--channels <n>', { integer: true, min: 1, max: 4096, default: 16, help: 'channels to show per layer', group }),
  textRow('out', '--out <dir>', { defaultText: 'beside the image', help: 'folder for the PNGs', group }),
  MAX_PIXELS_ROW,
  ALLOW_SVG_ROW,
  ALLOW_NONFINITE_ROW,
  jsonRow('print a JSON array, one object per layer'),
] as const;

export function addFeaturesCommand(program: Command): void {
  computingCommand(program, 'features', 'feature maps: the first channels of chosen layers for one image, as PNG grids', FEATURES_ROWS)
    .argument('<image>', 'image file')
    .action(async (file: string, opts: CommandOptions<typeof FEATURES_ROWS>) => {
      const layers = opts.layers.split(',').map((l) => l.trim()).filter((l) => l !== '');
      if (layers.length === 0) throw new UserError('Expected at least one layer path for --layers');
      const { featureMaps, findLayer } = await import('../viz/gradcam.js');
      const { renderFeatureGrid } = await import('../viz/feature-grid.js');
      const { loadModelForImages, readImageForModel, modelLine, outputPath } = await import('./image-model.js');
      const loaded = loadModelForImages(opts.checkpoint, { allowNonFinite: opts.allowNonFinite });
      (opts.json ? console.error : console.log)(modelLine(loaded));
      for (const layer of layers) findLayer(loaded.model, layer);
      const { input, mismatch } = await readImageForModel(file, loaded, { maxPixels: opts.maxPixels, allowSvg: opts.allowSvg });
      if (mismatch) (opts.json ? console.error : console.log)(mismatch);
      const maps = featureMaps(loaded.model, input, layers);
      if (opts.out) makeFolder(opts.out);
      const reports = [];
      for (const [layer, activation] of maps) {
        if (activation.ndim !== 4) throw new UserError(`layer '${layer}' outputs [${activation.shape.join(', ')}], not a feature map (N×C×H×W); choose a convolutional layer`);
        const [, c, h, w] = activation.shape;
        const target = outputPath(file, opts.out, `.${layer}.features.png`);
        const grid = await renderFeatureGrid(activation, `${layer}: ${c}x${h}x${w}, channels 0-${Math.min(opts.channels, c) - 1}`, target, { channels: opts.channels });
        reports.push({ layer, shape: [c, h, w], channelsShown: grid.channelsShown, file: target });
        if (!opts.json) console.log(`${layer}: ${c}x${h}x${w}, ${grid.channelsShown} channel${grid.channelsShown === 1 ? '' : 's'} → ${target}`);
      }
      if (opts.json) console.log(JSON.stringify(reports));
    });
}
