// Downloads against a local HTTP server on 127.0.0.1 (port 0): success, resume after a cut,
// truncated body, HTML page, checksum mismatch, 404, refused connection, mirrors, markers.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { downloadFile, type RemoteFile } from '../../src/data/download.js';
import { isMarkedVerified, verifyFile } from '../../src/data/checksum.js';
import { ensureRemoteFile } from '../../src/data/remote-files.js';
import {
  ChecksumMismatchError, DatasetNotFoundError, DownloadFailedError, NotAnArchiveError, TruncatedFileError,
} from '../../src/data/errors.js';
import { withTempDir } from '../helpers/tmp.js';

// A gzip body of ~200 KB that does not compress away, so a cut really lands mid-body.
const raw = Buffer.alloc(200_000);
for (let i = 0, x = 12345; i < raw.length; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  raw[i] = x >>> 24;
}
const BODY = gzipSync(raw, { level: 0 });
const MD5 = createHash('md5').update(BODY).digest('hex');
const SHA256 = createHash('sha256').update(BODY).digest('hex');

interface Seen { path: string; range?: string; userAgent?: string }
const seen: Seen[] = [];
let cutCount = 0;
let server: http.Server;
let base = '';

function sendRange(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range) {
    const start = Number(range[1]);
    res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { 'Content-Length': body.length, 'Content-Type': 'application/gzip' });
  res.end(body);
}

before(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    seen.push({ path: url, range: req.headers.range, userAgent: req.headers['user-agent'] });
    if (url.startsWith('/ok')) return sendRange(req, res, BODY);
    if (url.startsWith('/cut')) {
      // The first request dies after half the body; later ones honour Range.
      if (!req.headers.range && cutCount++ === 0) {
        res.writeHead(200, { 'Content-Length': BODY.length });
        res.write(BODY.subarray(0, 80_000), () => res.socket?.destroy());
        return;
      }
      return sendRange(req, res, BODY);
    }
    if (url.startsWith('/short')) {
      res.writeHead(200, { 'Content-Length': 100_000 });
      res.end(BODY.subarray(0, 100_000));
      return;
    }
    if (url.startsWith('/html')) {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!DOCTYPE html><html><head><title>Moved</title></head><body>Please log in</body></html>');
      return;
    }
    if (url.startsWith('/bad')) {
      const bad = Buffer.from(BODY);
      bad[bad.length - 100] ^= 0xff;
      return sendRange(req, res, bad);
    }
    if (url.startsWith('/redirect')) {
      res.writeHead(302, { Location: '/ok/data.gz' });
      res.end();
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function remote(...paths: string[]): RemoteFile {
  return { file: 'data.gz', urls: paths.map((p) => base + p), size: BODY.length, md5: MD5, format: 'gzip' };
}

const fast = { retryDelayMs: 0, timeoutMs: 5000 };

async function refusedUrl(): Promise<string> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}/data.gz`;
}

test('downloads, verifies, reports progress, sends a User-Agent and writes the verified marker', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const dest = path.join(dir, 'data.gz');
    const progress: number[] = [];
    seen.length = 0;
    await downloadFile(remote('/ok/data.gz'), dest, { ...fast, onProgress: (p) => progress.push(p.received) });
    assert.deepEqual(readFileSync(dest), BODY);
    assert.equal(existsSync(`${dest}.part`), false);
    assert.equal(progress.at(-1), BODY.length);
    assert.ok(progress.every((v, i) => i === 0 || v >= progress[i - 1]!));
    assert.match(seen[0]!.userAgent ?? '', /^cnn/);
    assert.equal(await isMarkedVerified(dest, { size: BODY.length, md5: MD5 }), true);
    // A changed mtime invalidates the marker (the next verification hashes again).
    utimesSync(dest, new Date(), new Date(Date.now() - 60_000));
    assert.equal(await isMarkedVerified(dest, { size: BODY.length, md5: MD5 }), false);
    await verifyFile(dest, [{ size: BODY.length, sha256: SHA256 }]);
    assert.equal(await isMarkedVerified(dest, { size: BODY.length, sha256: SHA256 }), true);
  } finally {
    cleanup();
  }
});

test('resumes with an HTTP Range request after the server cuts the body', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const dest = path.join(dir, 'data.gz');
    seen.length = 0;
    cutCount = 0;
    await downloadFile(remote('/cut/data.gz'), dest, fast);
    assert.deepEqual(readFileSync(dest), BODY);
    const cuts = seen.filter((s) => s.path.startsWith('/cut'));
    assert.equal(cuts.length, 2);
    assert.equal(cuts[0]!.range, undefined);
    assert.match(cuts[1]!.range ?? '', /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(cuts[1]!.range!)![0]) > 0, 'the retry asks only for the missing bytes');
  } finally {
    cleanup();
  }
});

test('resumes a .part left by an earlier run', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const dest = path.join(dir, 'data.gz');
    writeFileSync(`${dest}.part`, BODY.subarray(0, 12_345));
    seen.length = 0;
    await downloadFile(remote('/ok/data.gz'), dest, fast);
    assert.deepEqual(readFileSync(dest), BODY);
    assert.equal(seen[0]!.range, 'bytes=12345-');
  } finally {
    cleanup();
  }
});

test('a short body is a TruncatedFileError that says how to download by hand', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const dest = path.join(dir, 'data.gz');
    await assert.rejects(downloadFile(remote('/short/data.gz'), dest, { ...fast, manualHint: 'or use --data-dir DIR' }), (err: Error) => {
      assert.ok(err instanceof TruncatedFileError, err.message);
      assert.match(err.message, /truncated/);
      assert.ok(err.message.includes(MD5) && err.message.includes(dest) && err.message.includes('--data-dir'), err.message);
      return true;
    });
    assert.equal(existsSync(dest) || existsSync(`${dest}.part`), false);
  } finally {
    cleanup();
  }
});

test('an HTML page is a NotAnArchiveError', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    await assert.rejects(downloadFile(remote('/html/data.gz'), path.join(dir, 'data.gz'), fast),
      (err: Error) => err instanceof NotAnArchiveError && /HTML/.test(err.message));
  } finally {
    cleanup();
  }
});

test('wrong bytes of the right size are a ChecksumMismatchError', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    await assert.rejects(downloadFile(remote('/bad/data.gz'), path.join(dir, 'data.gz'), fast),
      (err: Error) => err instanceof ChecksumMismatchError && err.message.includes(MD5));
  } finally {
    cleanup();
  }
});

test('404 and a refused connection give one DownloadFailedError naming URL, size, checksum and destination', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const dest = path.join(dir, 'data.gz');
    const refused = await refusedUrl();
    const spec = { ...remote('/missing/data.gz'), urls: [`${base}/missing/data.gz`, refused] };
    await assert.rejects(downloadFile(spec, dest, fast), (err: Error) => {
      assert.ok(err instanceof DownloadFailedError, err.message);
      assert.equal(err.message.split('\n').length, 1);
      for (const part of [`${base}/missing/data.gz`, 'HTTP 404', refused, 'connection refused', MD5, BODY.length.toLocaleString('en-US'), dest]) {
        assert.ok(err.message.includes(part), `${JSON.stringify(part)} missing from: ${err.message}`);
      }
      return true;
    });
  } finally {
    cleanup();
  }
});

test('falls back to a mirror and follows redirects', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const dest = path.join(dir, 'data.gz');
    await downloadFile(remote('/missing/data.gz', '/redirect/data.gz'), dest, fast);
    assert.deepEqual(readFileSync(dest), BODY);
  } finally {
    cleanup();
  }
});

test('ensureRemoteFile finds, downloads into <root>/<name>, and refuses to download unless asked', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const spec = remote('/ok/data.gz');
    await assert.rejects(ensureRemoteFile('toy', spec, { dataDir: dir }), (err: Error) =>
      err instanceof DatasetNotFoundError && err.message.includes('cnn datasets download toy') && err.message.includes(path.join(dir, 'toy', 'data.gz')));
    const got = await ensureRemoteFile('toy', spec, { dataDir: dir, download: true, ...fast });
    assert.equal(got, path.join(dir, 'toy', 'data.gz'));
    // Found again without the network (the URL list is empty now).
    assert.equal(await ensureRemoteFile('toy', { ...spec, urls: [] }, { dataDir: dir }), got);
    // $CNN_DATA is the root when no --data-dir is given.
    assert.equal(await ensureRemoteFile('toy', { ...spec, urls: [] }, { env: { CNN_DATA: dir } }), got);
    // A damaged local file is reported, not silently used.
    writeFileSync(got, Buffer.concat([BODY.subarray(0, 10), Buffer.alloc(BODY.length - 10)]));
    await assert.rejects(ensureRemoteFile('toy', spec, { dataDir: dir }), ChecksumMismatchError);
  } finally {
    cleanup();
  }
});
