// `cnn features`: what chosen layers see in an image, as one PNG grid of channels per layer.
import type { Command } from 'commander';
import { makeFolder } from '../io/folders.js';
import { addAllowNonFiniteOption, type AllowNonFiniteOption } from './nonfinite-option.js';
import { addThreadsOption, applyThreadsOption, type ThreadsOption } from './threads.js';
import { UserError, parseIntegerOption } from './errors.js';
import { ALLOW_SVG_HELP, parseMaxPixels } from './image-options.js';

interface FeaturesOptions extends ThreadsOption {
  layers: string;
  checkpoint?: string;
  channels: number;
  out?: string;
  maxPixels?: number;
  allowSvg?: boolean;
  json?: boolean;
}

export function addFeaturesCommand(program: Command): void {
  addThreadsOption(addAllowNonFiniteOption(program.command('features')
    .description('feature maps: the first channels of chosen layers for one image, as PNG grids')
    .argument('<image>', 'image file')
    .requiredOption('--layers <paths>', 'comma-separated module paths (e.g. conv1,layer1 or features.0)')
    .option('--checkpoint <file>', 'checkpoint (default: the newest runs/**/best.bin)')
    .option('--channels <n>', 'channels to show per layer', parseIntegerOption('channels', 1, 4096), 16)
    .option('--out <dir>', 'folder for the PNGs (default: beside the image)')
    .option('--max-pixels <n>', 'refuse images with more pixels than this (default: 67108864, 64 megapixels)', parseMaxPixels)
    .option('--allow-svg', ALLOW_SVG_HELP)
    .option('--json', 'print a JSON array, one object per layer')))
    .action(async (file: string, opts: FeaturesOptions & AllowNonFiniteOption) => {
      await applyThreadsOption(opts);
      const layers = opts.layers.split(',').map((l) => l.trim()).filter((l) => l !== '');
      if (layers.length === 0) throw new UserError('Expected at least one layer path for --layers');
      const { featureMaps, findLayer } = await import('../viz/gradcam.js');
      const { renderFeatureGrid } = await import('../viz/feature-grid.js');
      const { loadModelForImages, readImageForModel, modelLine, outputPath } = await import('./image-model.js');
      const loaded = loadModelForImages(opts.checkpoint, { allowNonFinite: opts.allowNonfinite });
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
