// Joining the job: who launched us, the one-process world, the message of a build without MPI,
// and what `cnn doctor` reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchFacts } from '../../src/dist/launch.js';
import { joinWorld, soloWorld, NoMpiSupportError } from '../../src/dist/world.js';
import { native } from '../../src/tensor/native.js';
import { runCli } from '../helpers/cli.js';

test('launch facts come from Open MPI, PMI or nothing', () => {
  assert.deepEqual(launchFacts({}), { size: 1, rank: 0, localSize: 1 });
  assert.deepEqual(launchFacts({ OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_RANK: '3', OMPI_COMM_WORLD_LOCAL_SIZE: '2' }), { size: 4, rank: 3, localSize: 2 });
  assert.deepEqual(launchFacts({ PMI_SIZE: '2', PMI_RANK: '1' }), { size: 2, rank: 1, localSize: 2 });
});

test('outside mpirun a process is a world of one whose collectives leave buffers alone', () => {
  const w = joinWorld({});
  assert.equal(w, soloWorld);
  const buf = Float32Array.of(1, 2);
  w.allreduceSum(buf);
  w.broadcast(buf);
  assert.deepEqual([...buf], [1, 2]);
});

test('under mpirun, a build without MPI refuses in one line that says how to get it', () => {
  assert.throws(() => joinWorld({ OMPI_COMM_WORLD_SIZE: '2' }, { mpiInfo: () => ({ available: false, initialized: false }) }),
    (err: Error) => err instanceof NoMpiSupportError && /started by mpirun with 2 ranks, but this build of cnn has no MPI support: install Open MPI/.test(err.message) && !err.message.includes('\n'));
});

test('cnn doctor says whether MPI is built in, its version and thread level', () => {
  const r = runCli(['doctor', '--json']);
  const { mpi } = JSON.parse(r.stdout) as { mpi: { available: boolean; version?: string; threadLevel?: string } };
  assert.equal(mpi.available, native.mpiInfo().available);
  if (mpi.available) {
    assert.match(mpi.version!, /MPI/);
    assert.ok(['funneled', 'serialized', 'multiple'].includes(mpi.threadLevel!), mpi.threadLevel);
  }
  assert.match(runCli(['doctor']).stdout, mpi.available ? /^mpi: +found: .*thread level/m : /^mpi: +not built in/m);
});
