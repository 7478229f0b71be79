// `cnn models`: the model registry with parameter counts and default input sizes.
import type { Command } from 'commander';
import { thousands, table } from './format.js';
import { addRows } from './row-options.js';
import { jsonRow } from './shared-rows.js';

export function addModelsCommand(program: Command): void {
  addRows(program.command('models')
    .description('list the models with parameter counts and default input sizes'), [jsonRow('print one JSON array')])
    .action(async (opts: { json: boolean }) => {
      const { MODELS } = await import('../models/registry.js');
      const { withoutInit } = await import('../nn/init.js');
      const list = [...MODELS.values()].map((e) => {
        const model = withoutInit(() => e.build({ numClasses: e.defaultClasses, inChannels: e.defaultInput[0] }));
        const params = model.parameters().reduce((s, p) => s + p.size, 0);
        return { name: e.name, params, classes: e.defaultClasses, input: e.defaultInput, description: e.description };
      });
      if (opts.json) {
        console.log(JSON.stringify(list));
        return;
      }
      console.log(table(['model', 'parameters', 'classes', 'input', 'description'],
        list.map((m) => [m.name, thousands(m.params), String(m.classes), m.input.join('x'), m.description]), new Set([1, 2])));
    });
}
