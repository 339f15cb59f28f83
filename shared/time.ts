/** One day in milliseconds. Ages are measured in exact 24-hour days, never calendar days. */
export const DAY_MS = 86_400_000;

// RFC 3339 / ISO 8601 timestamp with a mandatory zone: what IAM, Pulumi's `createDate` output and the
// credential report all produce. `Date.parse` alone is not enough: V8 accepts "1" (year 2001) and rolls
// "2024-02-30" over to March, which would turn garbage into a plausible key age.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1] ?? 0;
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
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = m[8] as string;
  let offsetMin = 0;
  if (zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const hh = Number(zone.slice(1, 3));
    const mm = Number(zone.slice(-2));
    if (hh > 23 || mm > 59) return undefined;
    offsetMin = sign * (hh * 60 + mm);
  }
  // Milliseconds: the first three digits of the fraction, the resolution of every clock here.
  const millis = m[7] ? Number(m[7].slice(1, 4).padEnd(3, "0")) : 0;
  const utc = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
  utc.setUTCFullYear(year); // Date.UTC would read years 0-99 as 1900-1999
  return utc.getTime() - offsetMin * 60_000;
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
