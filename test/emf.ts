// Checks a log line the way CloudWatch Logs reads the embedded metric format (EMF) specification: a
// `_aws` object with a millisecond `Timestamp` and `CloudWatchMetrics` directives, each naming a
// `Namespace`, `Dimensions` (an array of arrays of keys, each key a top-level string field) and `Metrics`
// (`Name` of a top-level number, an optional standard `Unit`). A line that breaks any of these is stored
// as a plain log event and yields no metric, silently: so the check is strict.
import { strict as assert } from "node:assert";

/** What a valid EMF line says. */
export interface EmfRecord {
  readonly namespace: string;
  /** Each dimension set, as key → value. */
  readonly dimensions: readonly Record<string, string>[];
  /** Metric name → its value on the line. */
  readonly values: Readonly<Record<string, number>>;
  readonly units: Readonly<Record<string, string>>;
}

const UNITS = new Set([
  "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits",
  "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
  "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
]);

/** Asserts `line` (a JSON string or parsed object) is one valid EMF record with one directive, and returns it. */
export function readEmf(line: string | Record<string, unknown>): EmfRecord {
  const record = typeof line === "string" ? (JSON.parse(line) as Record<string, unknown>) : line;
  const aws = record._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  assert.ok(aws && typeof aws === "object", "the line has an _aws object");
  assert.ok(Number.isInteger(aws.Timestamp) && (aws.Timestamp as number) > 1e12, `_aws.Timestamp is epoch milliseconds, got ${String(aws.Timestamp)}`);
  assert.ok(Array.isArray(aws.CloudWatchMetrics) && aws.CloudWatchMetrics.length === 1, "one CloudWatchMetrics directive");
  const directive = aws.CloudWatchMetrics[0] as { Namespace?: unknown; Dimensions?: unknown; Metrics?: unknown };
  assert.ok(typeof directive.Namespace === "string" && /^[^:][\w .\-/#:]{0,254}$/.test(directive.Namespace), "Namespace is a string of 1-255 characters");
  assert.ok(Array.isArray(directive.Dimensions), "Dimensions is an array");
  const dimensions = (directive.Dimensions as unknown[]).map((set) => {
    assert.ok(Array.isArray(set) && set.length <= 30, "each dimension set is an array of at most 30 keys");
    return Object.fromEntries(
      (set as unknown[]).map((key) => {
        assert.equal(typeof key, "string");
        assert.equal(typeof record[key as string], "string", `dimension ${String(key)} is a top-level string field`);
        return [key as string, record[key as string] as string];
      }),
    );
  });
  assert.ok(Array.isArray(directive.Metrics) && directive.Metrics.length > 0 && directive.Metrics.length <= 100, "1-100 metrics");
  const values: Record<string, number> = {};
  const units: Record<string, string> = {};
  for (const m of directive.Metrics as { Name?: unknown; Unit?: unknown }[]) {
    assert.ok(typeof m.Name === "string" && m.Name.length > 0 && m.Name.length <= 1024, "each metric has a Name");
    assert.ok(!(m.Name in values), `metric ${m.Name} named once`);
    const value = record[m.Name];
    assert.ok(typeof value === "number" && Number.isFinite(value), `metric ${m.Name} is a top-level number, got ${JSON.stringify(value)}`);
    if (m.Unit !== undefined) assert.ok(typeof m.Unit === "string" && UNITS.has(m.Unit), `metric ${m.Name}: ${String(m.Unit)} is a CloudWatch unit`);
    values[m.Name] = value;
    units[m.Name] = (m.Unit as string | undefined) ?? "None";
  }
  return { namespace: directive.Namespace, dimensions, values, units };
}
