// `cnn datasets [--json]`: the registry and what is on disk. `cnn datasets download <name>`: fetch
// and verify a dataset's files (progress bar on a terminal, plain lines otherwise).
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { dataRoot } from '../data/location.js';
import { datasetStatus, downloadDataset, listDatasets, type DatasetStatus } from '../data/registry.js';
import type { DownloadProgress } from '../data/download.js';
import { textRow } from '../option-row.js';
import { addRows } from './row-options.js';
import { jsonRow } from './shared-rows.js';

interface DataDirOption { dataDir?: string }

const dataDirRow = (where: string) => textRow('dataDir', '--data-dir <dir>', {
  defaultText: '$CNN_DATA, else ./data', help: `dataset root; ${where}`, group: 'command',
});

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function describeState(s: DatasetStatus): string {
  switch (s.state) {
    case 'bundled': return `bundled (${megabytes(s.localBytes)})`;
    case 'local': return 'your folder (--data-dir)';
    case 'ready': return `downloaded, verified (${megabytes(s.localBytes)})`;
    case 'unverified': return `downloaded, not yet verified (${megabytes(s.localBytes)})`;
    case 'partial': return `partly downloaded (${megabytes(s.localBytes)} of ${megabytes(s.downloadBytes)})`;
    case 'missing': return `not downloaded (${megabytes(s.downloadBytes)})`;
  }
}

function progressReporter(): { onProgress: (p: DownloadProgress) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({
      format: '{file} [{bar}] {percentage}% | {received}/{totalMB}',
      hideCursor: true,
      stream: process.stderr,
    }, cliProgress.Presets.shades_classic);
    let current = '';
    return {
      onProgress: (p) => {
        const payload = { file: p.file, received: megabytes(p.received), totalMB: megabytes(p.total) };
        if (p.file !== current) {
          if (current) bar.stop();
          current = p.file;
          bar.start(p.total, p.received, payload);
        } else bar.update(p.received, payload);
      },
      stop: () => { if (current) bar.stop(); },
    };
  }
  let lastTenth = -1;
  let current = '';
  return {
    onProgress: (p) => {
      if (p.file !== current) { current = p.file; lastTenth = -1; }
      const tenth = Math.floor((p.received / p.total) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        console.error(`${p.file}: ${megabytes(p.received)} of ${megabytes(p.total)}`);
      }
    },
    stop: () => undefined,
  };
}

export function addDatasetsCommand(program: Command): void {
  const datasets = addRows(program.command('datasets')
    .description('list the datasets, what is on disk and where; `datasets download <name>` fetches one'),
  [jsonRow('print one JSON object'), dataDirRow('each dataset lives in <dir>/<name>')])
    .action(async (opts: DataDirOption & { json?: boolean }) => {
      const statuses = await Promise.all(listDatasets().map((d) => datasetStatus(d, { dataDir: opts.dataDir })));
      if (opts.json) {
        console.log(JSON.stringify({ dataRoot: dataRoot({ dataDir: opts.dataDir }), datasets: statuses }));
        return;
      }
      console.log(`data root: ${dataRoot({ dataDir: opts.dataDir })}`);
      const width = Math.max(...statuses.map((s) => s.name.length));
      for (const s of statuses) {
        const shape = s.shape ? `${s.shape.channels}×${s.shape.height}×${s.shape.width}` : 'any size';
        console.log(`${s.name.padEnd(width)}  ${shape.padEnd(8)} ${String(s.numClasses ?? '?').padStart(3)} classes  ${describeState(s)}`);
        console.log(`${''.padEnd(width)}  ${s.description}`);
      }
    });
  addRows(datasets.command('download <name>')
    .description('download and verify a dataset (resumes a partial download)'), [dataDirRow('files go to <dir>/<name>')])
    .action(async (name: string, opts: DataDirOption, cmd: Command) => {
      const dataDir = opts.dataDir ?? (cmd.parent?.opts() as DataDirOption | undefined)?.dataDir;
      const progress = progressReporter();
      try {
        const files = await downloadDataset(name, { dataDir, onProgress: progress.onProgress });
        progress.stop();
        for (const f of files) console.log(`verified ${f}`);
      } catch (err) {
        progress.stop();
        throw err;
      }
    });
}
