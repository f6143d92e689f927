// Errors of the fetch stage: each names the file, the expected and the actual value.
// An InputError, so its code reaches the user from a worker process.
import { InputError } from '../../pipeline/engine/errors.ts';

export type FetchErrorCode =
  | 'UNKNOWN_DATASET'
  | 'BAD_CATALOG'
  | 'BAD_CONFIG'
  | 'MISSING_FILE'
  | 'SIZE_MISMATCH'
  | 'CHECKSUM_MISMATCH'
  | 'HTML_PAGE'
  | 'TRUNCATED_GZIP'
  | 'BAD_GZIP'
  | 'BAD_MAGIC'
  | 'BAD_DIMS'
  | 'BAD_LENGTH'
  | 'BAD_RECORD_LENGTH'
  | 'BAD_LABEL'
  | 'ARCHIVE_MEMBER_MISSING'
  | 'HTTP_ERROR'
  | 'NETWORK_ERROR'
  | 'NO_SOURCE'
  | 'ABORTED';

export interface FetchErrorDetails {
  /** The file (path, URL or catalog name) the error is about. */
  file?: string;
  expected?: string | number;
  actual?: string | number;
  /** Underlying errors, e.g. one per source tried. */
  attempts?: string[];
  cause?: unknown;
}

export class FetchError extends InputError {
  declare readonly code: FetchErrorCode;
  readonly file?: string;
  readonly expected?: string | number;
  readonly actual?: string | number;
  readonly attempts?: string[];

  constructor(code: FetchErrorCode, message: string, details: FetchErrorDetails = {}) {
    super(code, message, { cause: details.cause });
    this.name = 'FetchError';
    this.file = details.file;
    this.expected = details.expected;
    this.actual = details.actual;
    this.attempts = details.attempts;
  }
}

/** `<file>: <what> mismatch: expected <e>, got <a>` with a FetchError code. */
export function mismatch(
  code: FetchErrorCode,
  file: string,
  what: string,
  expected: string | number,
  actual: string | number,
  hint = '',
): FetchError {
  return new FetchError(code, `${file}: ${what}: expected ${expected}, got ${actual}${hint ? ` (${hint})` : ''}`, {
    file,
    expected,
    actual,
  });
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** True for errors caused by an AbortSignal. */
export function isAbort(e: unknown): boolean {
  return (
    (e instanceof FetchError && e.code === 'ABORTED') ||
    (e instanceof Error && (e.name === 'AbortError' || (e as { code?: string }).code === 'ABORT_ERR'))
  );
}
