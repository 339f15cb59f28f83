import { strict as assert } from "node:assert";
import { evaluateKey } from "../shared";
describe("smoke", () => {
  it("evaluates", () => {
    assert.equal(evaluateKey({ createDate: "2026-01-01T00:00:00Z" }, { maxAgeDays: 30, warnDays: 7 }, Date.parse("2026-03-01T00:00:00Z")).reason, "expired");
  });
});
