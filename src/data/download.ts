// Downloads a published file: official URL, then mirrors; resumes a partial file with HTTP Range;
// checks the magic bytes as soon as they arrive (an HTML error page fails fast), then size, then
// checksum. TLS is verified by Node's defaults, which this file never changes.
import http from 'node:http';
import https from 'node:https';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { installFile } from '../io/atomic-write.js';
import { makeFolder } from '../io/folders.js';
import { describeChecksum, markVerified, verifyFile, type FileChecksum } from './checksum.js';
import {
  ChecksumMismatchError, DatasetError, DownloadFailedError, NotAnArchiveError, TruncatedFileError,
} from './errors.js';

/** A file as published: where it lives and what it must hash to. */
export interface RemoteFile extends FileChecksum {
  /** Name on disk. */
  file: string;
  /** Official URL first, then known mirrors. */
  urls: string[];
  /** Other byte-exact variants also accepted (e.g. a distribution's re-gzipped copy). */
  alternatives?: FileChecksum[];
  /** Expected leading bytes; 'gzip' rejects anything else (HTML pages) before it is written. */
  format?: 'gzip' | 'any';
}

export interface DownloadProgress {
  file: string;
  url: string;
  /** Bytes on disk so far, including a resumed part. */
  received: number;
  total: number;
}

export interface DownloadOptions {
  onProgress?: (progress: DownloadProgress) => void;
  userAgent?: string;
  /** Tries per URL when a transfer is cut; each retry resumes with Range. Default 3. */
  attemptsPerUrl?: number;
  /** Wait before retry n is n × this. Default 1000 ms. */
  retryDelayMs?: number;
  /** Socket idle timeout. Default 30 s. */
  timeoutMs?: number;
  /** Appended to the failure message: where to put a hand-downloaded file. */
  manualHint?: string;
}

export const DEFAULT_USER_AGENT = 'cnn-trainer/0.1 (+https://www.npmjs.com/package/cnn; Node.js)';
const GZIP_MAGIC = [0x1f, 0x8b];
const MAX_REDIRECTS = 5;

export function acceptedChecksums(remote: RemoteFile): FileChecksum[] {
  return [{ size: remote.size, md5: remote.md5, sha256: remote.sha256, sha256Prefix: remote.sha256Prefix }, ...(remote.alternatives ?? [])];
}

/** The one-line "what to do offline" text for a file. */
export function manualDownloadMessage(remote: RemoteFile, destination: string, hint?: string): string {
  return `Download ${remote.file} (${describeChecksum(remote)}) by hand from ${remote.urls[0] ?? '(no URL)'} `
    + `and put it at ${destination}${hint ? `, ${hint}` : ''}.`;
}

/** A network-level failure of one attempt; `progressed` says whether any body bytes arrived. */
class AttemptError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

interface ResponseInfo {
  response: http.IncomingMessage;
  url: string;
}

function requestOnce(url: string, headers: Record<string, string>, timeoutMs: number, redirects = 0): Promise<ResponseInfo> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new AttemptError(`invalid URL ${url}`, false));
      return;
    }
    const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
    if (!client) {
      reject(new AttemptError(`unsupported protocol ${parsed.protocol}`, false));
      return;
    }
    const req = client.get(parsed, { headers }, (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location) {
        response.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new AttemptError('too many redirects', false));
          return;
        }
        requestOnce(new URL(location, parsed).toString(), headers, timeoutMs, redirects + 1).then(resolve, reject);
        return;
      }
      resolve({ response, url });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new AttemptError(`no data for ${timeoutMs / 1000} s`, true)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof AttemptError) reject(err);
      else reject(new AttemptError(describeNetworkError(err), err.code !== 'ENOTFOUND' && err.code !== 'ECONNREFUSED'));
    });
  });
}

function describeNetworkError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ENOTFOUND': return 'host not found (offline?)';
    case 'ECONNRESET': return 'connection reset';
    case 'ETIMEDOUT': return 'connection timed out';
    default: return err.message;
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

function notAnArchive(remote: RemoteFile, url: string, head: Buffer): NotAnArchiveError {
  const text = head.subarray(0, 64).toString('latin1');
  const looksHtml = /<(!doctype|html|head|body)/i.test(text);
  return new NotAnArchiveError(`${url} did not return a gzip archive for ${remote.file}${looksHtml ? ' but an HTML page' : ''}`
    + ` (starts with ${JSON.stringify(text.slice(0, 24))})`);
}

/**
 * One attempt at one URL, resuming `part` if it has bytes. Resolves when the server finished its
 * response (whether or not the file is complete: verification decides that).
 */
async function attempt(remote: RemoteFile, url: string, part: string, options: DownloadOptions): Promise<void> {
  const start = await sizeOf(part);
  const headers: Record<string, string> = {
    'User-Agent': options.userAgent ?? DEFAULT_USER_AGENT,
    Accept: '*/*',
    'Accept-Encoding': 'identity',
  };
  if (start > 0) headers.Range = `bytes=${start}-`;
  const { response } = await requestOnce(url, headers, options.timeoutMs ?? 30_000);
  const status = response.statusCode ?? 0;
  if (status === 416 && start > 0) {
    // The part already holds everything the server has; verification will judge it.
    response.resume();
    return;
  }
  let offset = 0;
  if (status === 206 && start > 0) {
    const range = /^bytes (\d+)-/.exec(response.headers['content-range'] ?? '');
    if (!range || Number(range[1]) !== start) {
      response.resume();
      await fs.rm(part, { force: true });
      throw new AttemptError('server answered a different range; starting over', true);
    }
    offset = start;
  } else if (status !== 200) {
    response.resume();
    const retryable = status >= 500 || status === 429 || status === 408;
    throw new AttemptError(`HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`, retryable);
  }
  let received = offset;
  // Written by hand rather than with pipeline(): on a cut, pipeline() destroys the file stream and
  // drops bytes not yet flushed; here the file is ended cleanly, so every byte received is kept.
  const sink = createWriteStream(part, { flags: offset === 0 ? 'w' : 'a' });
  const sinkError = new Promise<never>((_, reject) => sink.once('error', reject));
  sinkError.catch(() => undefined);
  let head: Buffer | null = offset === 0 && remote.format === 'gzip' ? Buffer.alloc(0) : null;
  let failure: unknown;
  try {
    for await (const piece of response) {
      let chunk = piece as Buffer;
      if (head !== null) {
        head = Buffer.concat([head, chunk]);
        if (head.length < GZIP_MAGIC.length) continue;
        if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) throw notAnArchive(remote, url, head);
        chunk = head;
        head = null;
      }
      received += chunk.length;
      if (!sink.write(chunk)) await Promise.race([once(sink, 'drain'), sinkError]);
      options.onProgress?.({ file: remote.file, url, received, total: remote.size ?? offset + (Number(response.headers['content-length']) || 0) });
    }
    if (head !== null && head.length > 0) throw notAnArchive(remote, url, head);
  } catch (err) {
    failure = err;
  }
  sink.end();
  await Promise.race([once(sink, 'finish'), sinkError]);
  if (failure instanceof DatasetError) throw failure;
  if (failure !== undefined) {
    // The server closed the connection mid-body: what arrived stays in `part` for a Range retry.
    throw new AttemptError(`transfer cut after ${received.toLocaleString('en-US')} bytes`, true);
  }
  const declared = Number(response.headers['content-length']);
  if (response.complete === false || (Number.isFinite(declared) && received - offset < declared)) {
    throw new AttemptError(`transfer cut after ${received.toLocaleString('en-US')} bytes`, true);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Downloads `remote` to `destination` (via `destination.part`, renamed only once verified).
 * Throws TruncatedFileError, NotAnArchiveError or ChecksumMismatchError when a server sends bad
 * bytes and DownloadFailedError when no URL answered; each message says how to do it by hand.
 */
export async function downloadFile(remote: RemoteFile, destination: string, options: DownloadOptions = {}): Promise<void> {
  if (remote.urls.length === 0) throw new TypeError(`no URL for ${remote.file}`);
  makeFolder(path.dirname(destination));
  const part = `${destination}.part`;
  const attempts = Math.max(1, options.attemptsPerUrl ?? 3);
  const failures: string[] = [];
  let badContent: DatasetError | undefined;
  for (const url of remote.urls) {
    for (let n = 1; n <= attempts; n++) {
      try {
        const have = await sizeOf(part);
        if (remote.size !== undefined && have > remote.size) await fs.rm(part, { force: true });
        if (have !== remote.size) await attempt(remote, url, part, options);
        const matched = await verifyFile(part, acceptedChecksums(remote), `${remote.file} from ${url}`, false);
        installFile(part, destination);
        await markVerified(destination, matched);
        return;
      } catch (err) {
        if (err instanceof TruncatedFileError || err instanceof NotAnArchiveError || err instanceof ChecksumMismatchError) {
          // Bad bytes from this server: drop them, and do not resume them from a mirror.
          await fs.rm(part, { force: true });
          badContent = err;
          failures.push(`${url} (${err.message})`);
          break;
        }
        if (!(err instanceof AttemptError)) throw err;
        const last = n === attempts || !err.retryable;
        if (last) {
          failures.push(`${url} (${err.message})`);
          break;
        }
        await sleep((options.retryDelayMs ?? 1000) * n);
      }
    }
  }
  // A .part left by a cut transfer stays, so the next run resumes it with Range.
  const manual = manualDownloadMessage(remote, destination, options.manualHint);
  if (badContent) {
    const Kind = badContent.constructor as new (message: string) => DatasetError;
    throw new Kind(`${badContent.message}${failures.length > 1 ? `; tried ${failures.join(', ')}` : ''}. ${manual}`);
  }
  throw new DownloadFailedError(`Could not download ${remote.file}: ${failures.join(', ')}. ${manual}`);
}
