/**
 * Where the CPU that security adds goes, from the profiles of `npm run bench -- --profile`:
 * for each path and service, the self time per request of each package (or node module,
 * or the service's own bundle) in the secure and the insecure system, over the fixed-rate
 * rounds, the largest difference first.
 *
 *   npm run bench -- --profile --no-mesh
 *   node -r @swc-node/register tools/bench/src/profile-report.ts [dist/bench] [rows] [--functions]
 *
 * `--functions` lists functions instead of packages (`@nestjs/passport canActivate`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  compareSelfTime,
  functionOf,
  ownerOf,
  PROFILE_WINDOWS,
  selfTimePerRequest,
} from './lib/profile-diff';
import type { CpuProfile, ProfileWindow } from './lib/profile-diff';
import { PATHS } from './lib/report';
import type { BenchResults } from './lib/report';
import { SERVICES } from './lib/system';

const WORKSPACE = resolve(__dirname, '../../..');
const [dir, rowCount] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const outDir = resolve(WORKSPACE, dir ?? 'dist/bench');
const rows = Number(rowCount ?? 12);
const keyOf = process.argv.includes('--functions') ? functionOf : ownerOf;
const profileDir = join(outDir, 'profiles');
if (!existsSync(join(profileDir, PROFILE_WINDOWS))) {
  throw new Error(`no ${PROFILE_WINDOWS} in ${profileDir}: run npm run bench -- --profile first`);
}
const windows = JSON.parse(readFileSync(join(profileDir, PROFILE_WINDOWS), 'utf8')) as Record<
  string,
  ProfileWindow[]
>;
const results = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')) as BenchResults;
const us = (value: number) => value.toFixed(1);

for (const path of PATHS) {
  for (const service of SERVICES) {
    const selfTime = (mode: 'secure' | 'insecure') => {
      const profile = JSON.parse(
        readFileSync(join(profileDir, `${mode}-${service}.cpuprofile`), 'utf8'),
      ) as CpuProfile;
      return selfTimePerRequest(profile, windows[`${mode}.${path}`] ?? [], keyOf);
    };
    const [secure, insecure] = [selfTime('secure'), selfTime('insecure')];
    const total = (times: Map<string, number>) => [...times.values()].reduce((a, b) => a + b, 0);
    const measured = (mode: 'secure' | 'insecure') =>
      results[mode].paths[path].cpuSecondsPer1000[service] * 1000;
    process.stdout.write(
      `\n## ${path}, ${service}: profiled ${us(total(secure))} / ${us(total(insecure))} us per request ` +
        `(secure / insecure), measured ${us(measured('secure'))} / ${us(measured('insecure'))}\n\n` +
        '| self time of | secure - insecure us | secure us | insecure us |\n| --- | --- | --- | --- |\n',
    );
    for (const cost of compareSelfTime(secure, insecure).slice(0, rows)) {
      process.stdout.write(
        `| ${cost.owner} | ${us(cost.secureUs - cost.insecureUs)} | ${us(cost.secureUs)} | ${us(cost.insecureUs)} |\n`,
      );
    }
  }
}
