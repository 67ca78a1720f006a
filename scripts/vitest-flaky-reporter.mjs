// Names each test that failed and then passed on a retry (the kernel and lab suites' `retry`), one
// "FLAKY" line each, so that npm test's closing lines show it rather than the retry hiding it.
import path from 'node:path';

export default class FlakyReporter {
  flaky = [];

  onTestCaseResult(test) {
    const d = test.diagnostic();
    if (d?.flaky) this.flaky.push(`${path.relative(process.cwd(), test.module.moduleId)} > ${test.fullName} (passed on retry ${d.retryCount})`);
  }

  onTestRunEnd() {
    for (const f of this.flaky) process.stdout.write(`FLAKY ${f}\n`);
  }
}
