// Errors a dataset user can cause or meet (missing, corrupt or undownloadable files). Each carries
// a message that is complete on one line; the CLI prints it without a stack trace.
import { CnnError, type ExitCode } from '../errors.js';

/** Exit code 2 for bad input files or options, 1 for network failures. */
export class DatasetError extends CnnError {
  constructor(message: string, exitCode: ExitCode = 2) {
    super(message, { exitCode });
  }
}

/** A file (downloaded or local) is shorter than it must be, or a stream ended mid-record. */
export class TruncatedFileError extends DatasetError {}

/** A file that should be a gzip/tar archive is something else — typically an HTML error page. */
export class NotAnArchiveError extends DatasetError {}

/** A file has the right size but not the published checksum. */
export class ChecksumMismatchError extends DatasetError {}

/** A file's contents break its format (bad magic number, impossible header, wrong record size). */
export class CorruptFileError extends DatasetError {}

/** A tar entry would land outside the target folder (`../`, absolute path) or is a link. */
export class UnsafeArchiveEntryError extends DatasetError {}

/** Every URL failed (HTTP error, refused connection, offline); the message says what to do by hand. */
export class DownloadFailedError extends DatasetError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** Files needed are not on disk and downloading was not allowed; the message says where to put them. */
export class DatasetNotFoundError extends DatasetError {}

/** An unknown registry name or bad option. */
export class DatasetOptionError extends DatasetError {}
