// Bundles the scheduled rotator Lambda: dist/rotator/index.js (exports `handler`) and dist/rotator.zip
// (index.js at its root), the same way as the Config rule (SDK bundled, fixed zip mtime). Runs after tsc
// in `npm run build`.
import { bundleLambda } from "../scripts/bundle-lambda.mjs";

await bundleLambda("rotator");
