// `cnn train --pretrained` against 127.0.0.1 (CNN_WEIGHTS_URL): offline is one line naming the
// URL and --init FILE, a file whose hash does not match its name is refused and not kept, and
// --pretrained with --init or --resume is refused before any work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { withTempDir } from '../helpers/tmp.js';
import { writeTinyImageFolder } from '../helpers/tiny-dataset.js';
import { repoRoot } from '../helpers/fixtures.js';

/** The CLI in a child process without blocking this one's event loop (the server below must answer). */
function cnnAsync(args: string[], env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${repoRoot}bin/cnn.js`, ...args], { env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.resume();
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

test('--pretrained: offline names the URL and --init FILE; a hash mismatch is refused and not kept; --init or --resume beside it refused', async () => {
  const { dir, cleanup } = withTempDir();
  const server = http.createServer((_req, res) => res.end(Buffer.alloc(1000, 7)));
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const data = (await writeTinyImageFolder(path.join(dir, 'img'), 2)).filter((a) => a !== '--quiet');
    const args = ['train', '--model', 'resnet18', '--pretrained', ...data, '--image-size', '32', '--threads', '1'];
    const env = { CNN_DATA: path.join(dir, 'data') };
    const bad = await cnnAsync([...args, '--out', path.join(dir, 'bad')], { ...env, CNN_WEIGHTS_URL: `http://127.0.0.1:${port}/models/` });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /^cnn: .*resnet18-f37072fd\.pth .*is corrupt: sha256 [0-9a-f]{64}, expected sha256 f37072fd/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.equal(existsSync(path.join(dir, 'data', 'weights', 'resnet18-f37072fd.pth')), false);

    await new Promise((resolve) => server.close(resolve));
    const offline = await cnnAsync([...args, '--out', path.join(dir, 'offline')], { ...env, CNN_WEIGHTS_URL: `http://127.0.0.1:${port}/` });
    assert.equal(offline.status, 1, offline.stderr);
    assert.match(offline.stderr, new RegExp(`^cnn: Could not download resnet18-f37072fd\\.pth: http://127\\.0\\.0\\.1:${port}/resnet18-f37072fd\\.pth .*or pass the file to --init FILE\\.$`, 'm'));
    assert.equal(offline.stderr.trim().split('\n').length, 1, offline.stderr);

    const both = await cnnAsync([...args, '--init', 'x.pth', '--out', path.join(dir, 'both')], env);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /^cnn: --pretrained and --init both choose the starting weights/);
    const resumed = await cnnAsync([...args, '--resume', path.join(dir, 'none', 'last.bin')], env);
    assert.equal(resumed.status, 2);
    assert.match(resumed.stderr, /^cnn: --pretrained starts a new run and --resume continues one/);
  } finally {
    server.close();
    cleanup();
  }
});
