// Mocha's spec reporter, plus the plain closing line CI reads: "N passed, M failed[, K skipped]".
"use strict";
const Mocha = require("mocha");

class KeyageReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      // Printed after Spec's epilogue, so it is the last line of the run.
      process.nextTick(() => console.log(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ""}`));
    });
  }
}
module.exports = KeyageReporter;
