// Tests run TypeScript through ts-node without type-checking (fast); `npm test` type-checks the whole tree
// with tsc first, so no type error slips through.
process.env.TS_NODE_TRANSPILE_ONLY = "true";
module.exports = {
  require: ["ts-node/register", "test/setup.ts"],
  extension: ["ts"],
  spec: ["test/**/*.spec.ts"],
  reporter: "test/reporter.js",
  timeout: 20000,
};
