// Tests run TypeScript through ts-node without type-checking (fast); `npm test` type-checks the whole tree
// with tsc first, so no type error slips through.
process.env.TS_NODE_TRANSPILE_ONLY = "true";
module.exports = {
  require: ["ts-node/register", "test/setup.ts"],
  extension: ["ts"],
  // `npx mocha test/x.spec.ts` runs just that file; with no file named, every spec runs.
  spec: process.argv.slice(2).some((a) => a.endsWith(".spec.ts")) ? [] : ["test/**/*.spec.ts"],
  reporter: "test/reporter.js",
  timeout: 20000,
};
