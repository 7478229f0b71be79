// --pretrained's weights against a local HTTP server on 127.0.0.1: the base-URL override, a
// verified download into <data root>/weights/, a cache hit without a second request, a hash
// mismatch refused, and the offline message.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePretrained, fetchWeights, pretrainedFile, pretrainedModels, weightsDir } from '../../src/data/pretrained.js';
import { imagenetFacts } from '../../src/data/imagenet.js';
import { ChecksumMismatchError, DatasetOptionError, DownloadFailedError } from '../../src/data/errors.js';
import { withTempDir } from '../helpers/tmp.js';

const BODY = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 2654435761) >>> 24));
const PREFIX = createHash('sha256').update(BODY).digest('hex').slice(0, 8);
const requests: string[] = [];
let server: http.Server;
let base = '';

before(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(200, { 'Content-Length': BODY.length });
    res.end(BODY);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/`;
});
after(() => server.close());

test('the registry holds torchvision\'s ImageNet weights for the models the issue names, and ImageNet\'s facts', () => {
  assert.deepEqual(pretrainedModels(), ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152', 'vgg11', 'vgg13', 'vgg16', 'vgg19',
    'vgg11_bn', 'vgg13_bn', 'vgg16_bn', 'vgg19_bn', 'mobilenet_v2']);
  const r18 = pretrainedFile('resnet18', { env: {} });
  assert.deepEqual(r18, { file: 'resnet18-f37072fd.pth', urls: ['https://download.pytorch.org/models/resnet18-f37072fd.pth'], sha256Prefix: 'f37072fd', format: 'any' });
  assert.deepEqual(pretrainedFile('resnet18', { env: { CNN_WEIGHTS_URL: 'http://127.0.0.1:9/m' } }).urls, ['http://127.0.0.1:9/m/resnet18-f37072fd.pth']);
  assert.throws(() => pretrainedFile('lenet5'), (e: Error) => e instanceof DatasetOptionError && /--pretrained has no ImageNet weights for lenet5; it has them for resnet18, /.test(e.message));
  const facts = imagenetFacts();
  assert.equal(facts.classes.length, 1000);
  assert.deepEqual([facts.classes[0], facts.classes[999]], ['tench', 'toilet tissue']);
  assert.deepEqual(facts.preprocessing, { resize: 256, crop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], interpolation: 'bilinear' });
});

test('a weight file downloads once into <data root>/weights/, verified by its hash prefix; the next call is a cache hit', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const remote = { file: `tiny-${PREFIX}.pth`, urls: [`${base}tiny-${PREFIX}.pth`], sha256Prefix: PREFIX, format: 'any' as const };
    requests.length = 0;
    const got = await fetchWeights('tiny', remote, { dataDir: dir });
    assert.equal(got, path.join(dir, 'weights', `tiny-${PREFIX}.pth`));
    assert.ok(readFileSync(got).equals(BODY));
    assert.equal(await fetchWeights('tiny', remote, { dataDir: dir }), got);
    assert.deepEqual(requests, [`/models/tiny-${PREFIX}.pth`], 'one request for two calls');
    assert.equal(weightsDir({ env: { CNN_DATA: dir }, cwd: '/' }), path.join(dir, 'weights'));
  } finally {
    cleanup();
  }
});

test('--pretrained refuses a file whose SHA-256 does not start with the prefix in its name', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    await assert.rejects(ensurePretrained('resnet18', { dataDir: dir, env: { CNN_WEIGHTS_URL: base }, attemptsPerUrl: 1 }), (e: Error) => {
      assert.ok(e instanceof ChecksumMismatchError, e.message);
      assert.match(e.message, /resnet18-f37072fd\.pth from http:\/\/127\.0\.0\.1:\d+\/models\/resnet18-f37072fd\.pth is corrupt: sha256 [0-9a-f]{64}, expected sha256 f37072fd…/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    assert.equal(existsSync(path.join(dir, 'weights', 'resnet18-f37072fd.pth')), false);
    assert.equal(existsSync(path.join(dir, 'weights', 'resnet18-f37072fd.pth.part')), false);
  } finally {
    cleanup();
  }
});

test('offline: one line naming the URL, where the file goes and --init FILE', async () => {
  const { dir, cleanup } = withTempDir();
  const closed = http.createServer();
  closed.listen(0, '127.0.0.1');
  await new Promise((resolve) => closed.once('listening', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  try {
    await assert.rejects(ensurePretrained('vgg11_bn', { dataDir: dir, env: { CNN_WEIGHTS_URL: `http://127.0.0.1:${port}/` }, attemptsPerUrl: 1 }), (e: Error) => {
      assert.ok(e instanceof DownloadFailedError, e.message);
      assert.ok(!e.message.includes('\n'));
      assert.match(e.message, new RegExp(`^Could not download vgg11_bn-6002323d\\.pth: http://127\\.0\\.0\\.1:${port}/vgg11_bn-6002323d\\.pth \\(connection refused\\)\\. `
        + `Download vgg11_bn-6002323d\\.pth \\(sha256 6002323d…\\) by hand from http://127\\.0\\.0\\.1:${port}/vgg11_bn-6002323d\\.pth and put it at .*weights/vgg11_bn-6002323d\\.pth, or pass the file to --init FILE\\.$`));
      return true;
    });
    await assert.rejects(ensurePretrained('resnet50', { dataDir: dir, download: false }), /resnet50: resnet50-0676ba61\.pth is not in .*weights; download it from https:\/\/download\.pytorch\.org\/models\/resnet50-0676ba61\.pth and put it there, or pass the file to --init FILE/);
  } finally {
    cleanup();
  }
});
