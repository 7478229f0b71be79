// Reading a whole dataset file with errors that name it: a folder where a file should be (a
// hand-made `test_batch.bin/`) is bad input, not a raw EISDIR.
import { promises as fs } from 'node:fs';
import { CorruptFileError, DatasetNotFoundError } from './errors.js';

export async function readDataFile(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new CorruptFileError(`${file} is a folder, not a data file`);
    if (code === 'ENOENT') throw new DatasetNotFoundError(`${file} does not exist`);
    throw new CorruptFileError(`cannot read ${file}: ${code ?? (err as Error).message}`);
  }
}
