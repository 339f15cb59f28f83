/** AWS Config's limit on an evaluation's Annotation, and the length every keyage message fits in. */
export const MAX_ANNOTATION = 256;
const MARK = " [truncated]";

/**
 * Shortens text to at most `max` UTF-16 units, ending in " [truncated]" when cut (as rdklib does), and
 * never splitting a surrogate pair. Text that fits is returned unchanged.
 */
export function truncate(text: string, max = MAX_ANNOTATION): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - MARK.length);
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end).trimEnd() + MARK;
}

/** "1 day" / "45 days". */
export function days(n: number): string {
  return `${n} day${n === 1 ? "" : "s"}`;
}

/** Upper-cases the first letter, so a key label ("access key 1") can start a sentence. */
export function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Joins ["a", "b", "c"] as "a, b and c". */
export function listing(parts: readonly string[]): string {
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}
