import { startLoad } from './load';

/**
 * Drives a URL (HAProxy's frontend) at a steady rate and prints, every second, answers per version
 * and failures. Stops on Ctrl-C or after --seconds.
 *
 *   node --import tsx examples/load-generator/main.ts http://127.0.0.1:8080 --rate 100 --seconds 60
 */
const [url, ...rest] = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = rest.indexOf(`--${name}`);
  return index >= 0 ? Number(rest[index + 1]) : fallback;
};
if (!url || !/^https?:\/\//.test(url)) {
  process.stderr.write(
    'usage: main.ts <url> [--rate N] [--seconds N]   e.g. main.ts http://127.0.0.1:8080 --rate 100\n',
  );
  process.exit(2);
}
const seconds = option('seconds', 60);
const load = startLoad({ url, rate: option('rate', 50), maxSeconds: seconds });
const timer = setInterval(() => {
  const recent = load.recent(1);
  const line = Object.entries(recent)
    .map(([version, counts]) => `${version}: ${counts.ok} ok ${counts.failed} failed`)
    .join('  ');
  process.stdout.write(`${new Date().toISOString()}  ${line || 'no answers'}\n`);
}, 1000);
const finish = async () => {
  clearInterval(timer);
  const report = await load.stop();
  process.stdout.write(`sent ${report.sent}, ok ${report.ok}, failed ${report.failed.length}\n`);
  process.exit(0);
};
process.on('SIGINT', () => void finish());
setTimeout(() => void finish(), seconds * 1000).unref();
