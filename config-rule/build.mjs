// Bundles the Config rule Lambda: dist/config-rule/index.js (exports `handler`) and dist/config-rule.zip
// (index.js at its root). Runs after tsc in `npm run build`; it overwrites the index.js tsc emitted, and
// leaves tsc's other dist/config-rule/*.js alone (the CLI imports dist/aws/*.js, not this folder).
// KEYAGE_SDK=external builds with the SDK left out, to compare sizes; see docs/config-rule.md.
import { bundleLambda } from "../scripts/bundle-lambda.mjs";

await bundleLambda("config-rule");
