// A node:test reporter beside the spec one: at the end, the test files that took longest (the sum of their
// top-level tests' durations), so that whoever keeps `npm test` under its time budget sees where it goes.
export default async function* slowestFiles(source) {
  const perFile = new Map();
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      const ms = event.data.details?.duration_ms ?? 0;
      perFile.set(event.data.file, (perFile.get(event.data.file) ?? 0) + ms);
    }
  }
  const rows = [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 15);
  const total = [...perFile.values()].reduce((a, b) => a + b, 0);
  yield `\nslowest test files (of ${perFile.size}; ${(total / 1000).toFixed(0)} s of tests in all):\n`;
  for (const [file, ms] of rows)
    yield `${(ms / 1000).toFixed(1).padStart(7)} s  ${file.replace(`${process.cwd()}/`, '')}\n`;
}
