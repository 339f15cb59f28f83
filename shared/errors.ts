/**
 * Errors raised by the rule module. Every front end maps them to its own output: a diagnostic, a Lambda
 * failure with no evaluations written, or exit status 2 with a one-line message.
 */

/** Base class: `instanceof KeyageError` tells "bad input, say it plainly" from a bug. */
export class KeyageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A rule parameter (maxAgeDays, warnDays, exemptions) is out of range or malformed. */
export class ParameterError extends KeyageError {
  /** The parameter's name as the user wrote it (e.g. `maxAccessKeyAge`, `--max-age-days`). */
  readonly parameter: string;
  /** The offending value, as received. */
  readonly value: unknown;

  constructor(parameter: string, value: unknown, message: string) {
    super(message);
    this.parameter = parameter;
    this.value = value;
  }
}

/** A credential report cannot be read: wrong header, missing column, or a malformed row. */
export class CredentialReportError extends KeyageError {
  /** 1-based line number in the file, when the problem is on one line. */
  readonly line: number | undefined;

  constructor(message: string, line?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.line = line;
  }
}

/** Shows a value in an error message: JSON for strings (quotes make blanks visible), shortened. */
export function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : value instanceof Date ? value.toISOString() : String(JSON.stringify(value) ?? value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
