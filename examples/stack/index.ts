// A deploy user whose access key rotates itself, so that keyage's iam-access-key-max-age policy never
// blocks a deployment. Preview it with the pack (from this directory):
//
//   npm install
//   pulumi preview --policy-pack ../.. --policy-pack-config ../policy-config.json
//
// The key is "advisory"-flagged by iam-access-key-creation (a user key is a long-lived credential):
// prefer a role, OIDC or Pulumi ESC where you can.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const DAY_MS = 86_400_000;
// Rotate well inside keyage's limit (maxAgeDays, default 30): the key is replaced on the first
// `pulumi up` after each 21-day period, so it is at most 21 days plus your deploy interval old.
const ROTATION_DAYS = 21;

const user = new aws.iam.User("deployer", { name: "keyage-example-deployer", tags: { purpose: "keyage example" } });

const key = new aws.iam.AccessKey(
  "deployer-key",
  { user: user.name },
  {
    // replacementTrigger (Pulumi >= 3.211): when this value changes, the key is replaced — a new key is
    // created first, then the old one deleted, and everything reading key.secret gets the new value.
    replacementTrigger: String(Math.floor(Date.now() / (ROTATION_DAYS * DAY_MS))),
    // The same with @pulumiverse/time (npm install @pulumiverse/time), which records the rotation
    // time in the stack; run `pulumi up --refresh` so that Rotating notices when it is due:
    //
    //   import * as time from "@pulumiverse/time";
    //   const rotation = new time.Rotating("deployer-key-rotation", { rotationDays: ROTATION_DAYS });
    //   ... { replacementTrigger: rotation.rotationRfc3339 }
  },
);

// One-off rotation of any key instead: pulumi up --replace '<urn of the key>'
export const accessKeyId = key.id;
export const secretAccessKey = pulumi.secret(key.secret);
export const keyCreated = key.createDate;
