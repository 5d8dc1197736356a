// `npm run bench`: performance figures measured in one run, printed as ratios so they mean the
// same on any machine. Not a test: nothing here asserts timing. `npm run bench -- --json` prints
// one JSON object whose `ratios` maps each comparison to its measured ratio.
import { parseArgs } from 'node:util';
import { benchSigning } from './signing.ts';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, seconds: { type: 'string', default: '2' } },
});
const seconds = Number(values.seconds);

const signing = benchSigning(seconds);
const report = { seconds, measurements: signing.measurements, ratios: signing.ratios };

if (values.json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  const width = Math.max(...report.measurements.map((m) => m.name.length));
  process.stdout.write(`Signing throughput (${seconds} s per figure, one core):\n`);
  for (const m of report.measurements) {
    process.stdout.write(
      `  ${m.name.padEnd(width)}  ${Math.round(m.perSecond).toLocaleString('en-US').padStart(9)} /s\n`,
    );
  }
  process.stdout.write('\nRatios:\n');
  for (const [name, value] of Object.entries(report.ratios))
    process.stdout.write(`  ${name.padEnd(24)} ${value.toFixed(3)}\n`);
  process.stdout.write('\nTargets: rsaUrlVsOpenssl >= 0.90, ecdsaUrlVsOpenssl >= 0.80.\n');
}
