// The CLI's pure audit model: naming credential-report slots by key id, and reading a key's last use.
import { strict as assert } from "node:assert";
import { nameKeysById, type AuditKey } from "../cli/model";

describe("cli model: nameKeysById", () => {
  const slot1: AuditKey = { slot: 1, status: "Active", createDate: "2026-10-15T08:00:00+00:00", lastUsedDate: "2026-11-28T22:01:00+00:00", lastUsedService: "ec2", lastUsedRegion: "us-east-1" };
  const slot2: AuditKey = { slot: 2, status: "Active", createDate: "2026-11-20T13:00:00+00:00" };

  it("matches a slot to the listed key created in the same second, and carries the slot's last use over", () => {
    const named = nameKeysById([slot1, slot2], [
      { accessKeyId: "AKIA0000000000000002", status: "Active", createDate: "2026-11-20T13:00:00.999Z" },
      { accessKeyId: "AKIA0000000000000001", status: "Active", createDate: "2026-10-15T08:00:00Z" },
    ]);
    assert.deepEqual(
      named.map((k) => [k.accessKeyId, k.slot, k.lastUsedDate, k.lastUsedService, k.lastUsedRegion]),
      [
        ["AKIA0000000000000002", undefined, undefined, undefined, undefined],
        ["AKIA0000000000000001", undefined, "2026-11-28T22:01:00+00:00", "ec2", "us-east-1"],
      ],
    );
  });

  it("does not match keys created a second apart", () => {
    const [key] = nameKeysById([slot1], [{ accessKeyId: "AKIA0000000000000001", status: "Active", createDate: "2026-10-15T08:00:01Z" }]);
    assert.equal(key?.lastUsedDate, undefined);
  });

  it("keeps IAM's current state: a key deleted since the report is gone, one created since is there, a status change counts", () => {
    const named = nameKeysById([slot1, slot2], [
      { accessKeyId: "AKIA0000000000000001", status: "Inactive", createDate: "2026-10-15T08:00:00Z" },
      { accessKeyId: "AKIA0000000000000003", status: "Active", createDate: "2026-11-29T11:00:00Z" },
    ]);
    assert.deepEqual(
      named.map((k) => [k.accessKeyId, k.status]),
      [
        ["AKIA0000000000000001", "Inactive"],
        ["AKIA0000000000000003", "Active"],
      ],
    );
  });

  it("matches each slot at most once when two keys share a creation second", () => {
    const twin: AuditKey = { ...slot1, slot: 2, lastUsedService: "s3" };
    const named = nameKeysById([slot1, twin], [
      { accessKeyId: "AKIA0000000000000001", status: "Active", createDate: "2026-10-15T08:00:00Z" },
      { accessKeyId: "AKIA0000000000000002", status: "Active", createDate: "2026-10-15T08:00:00Z" },
    ]);
    assert.deepEqual(named.map((k) => k.lastUsedService), ["ec2", "s3"]);
  });
});
