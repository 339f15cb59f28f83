/** One day in milliseconds. Ages are measured in exact 24-hour days, never calendar days. */
export const DAY_MS = 86_400_000;

// RFC 3339 / ISO 8601 timestamp with a mandatory zone: what IAM, Pulumi's `createDate` output and the
// credential report all produce. `Date.parse` alone is not enough: V8 accepts "1" (year 2001) and rolls
// "2024-02-30" over to March, which would turn garbage into a plausible key age.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function validDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * Parses an RFC 3339 timestamp with an explicit zone (`Z` or `±hh:mm`) into epoch milliseconds.
 * A `Date` is accepted as is. Returns `undefined` for anything else, including impossible dates.
 *
 * @example parseTimestamp("2026-01-31T10:00:00+01:00") // 1769850000000
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isFinite(ms) ? ms : undefined;
  }
  if (typeof value !== "string") return undefined;
  const m = TIMESTAMP.exec(value.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = m[8] as string;
  if (zone !== "Z" && zone !== "z") {
    const offset = /^[+-](\d{2}):?(\d{2})$/.exec(zone);
    if (!offset || Number(offset[1]) > 23 || Number(offset[2]) > 59) return undefined;
  }
  const ms = Date.parse(value.trim().replace(" ", "T"));
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Parses an exemption's end: a full timestamp, or a date `YYYY-MM-DD` meaning the end of that day in UTC
 * (an exemption "until 2027-01-31" still holds on the 31st).
 */
export function parseUntil(value: string): number | undefined {
  const m = DATE_ONLY.exec(value.trim());
  if (m) {
    const [year, month, day] = m.slice(1, 4).map(Number) as [number, number, number];
    return validDate(year, month, day) ? Date.UTC(year, month - 1, day + 1) - 1 : undefined;
  }
  return parseTimestamp(value);
}

/** Whole days (rounded down) in a non-negative duration. */
export function wholeDays(ms: number): number {
  return Math.floor(Math.max(0, ms) / DAY_MS);
}
