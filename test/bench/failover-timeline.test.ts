// bench/peers/failover-timeline.ts against member logs in the masters' own line format: the
// phases of a failover are dated from the signal, events of another failover or of the cluster's
// return do not leak in, and a failover whose survivors logged nothing shows as such.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTempDir } from '../support/tmp.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = path.join(repoRoot, 'bench', 'peers', 'failover-timeline.ts');

function roleLine(time: string, node: string, role: string): string {
  const msg = role === 'leader' ? 'became leader' : `now ${role}`;
  return JSON.stringify({ level: 'info', time, node, component: 'master', subsystem: 'raft', role, msg });
}

test('dates pre-vote, leader and first write from the signal, per failover', () => {
  const directory = makeTempDir('failover-timeline-');
  const progress = [
    '  flotilla freeze of member 1 at 2026-12-06T10:00:00.000Z',
    '  flotilla freeze 1/2: first write after 340 ms',
    '  flotilla freeze of member 2 at 2026-12-06T10:01:00.000Z',
    '  flotilla freeze 2/2: first write after 9000 ms',
  ].join('\n');
  writeFileSync(path.join(directory, 'run.err'), `${progress}\n`);
  writeFileSync(
    path.join(directory, 'm2.log'),
    `${[
      roleLine('2026-12-06T09:59:59.000Z', 'm2', 'pre-candidate'),
      roleLine('2026-12-06T10:00:00.290Z', 'm2', 'pre-candidate'),
      roleLine('2026-12-06T10:00:00.300Z', 'm2', 'candidate'),
      roleLine('2026-12-06T10:00:00.310Z', 'm2', 'leader'),
      JSON.stringify({ time: '2026-12-06T10:00:00.311Z', subsystem: 'audit', msg: 'audit' }),
    ].join('\n')}\n`,
  );
  writeFileSync(
    path.join(directory, 'm3.log'),
    `${[
      roleLine('2026-12-06T10:00:00.280Z', 'm3', 'pre-candidate'),
      roleLine('2026-12-06T10:00:00.301Z', 'm3', 'follower'),
    ].join('\n')}\n`,
  );
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', script, path.join(directory, 'run.err'), directory],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );
  const rows = output
    .split('\n')
    .filter((line) => /^\s+\d+\s/.test(line))
    .map((line) => line.trim().split(/\s+/));
  // run, pre_vote_ms, candidate_ms, leader_ms, first_write_ms, write_after_leader_ms, pre_candidacies
  assert.equal(rows[0], ['1', '280', '300', '310', '340', '30', '2']);
  // The second failover's survivors logged nothing within its window.
  assert.equal(rows[1], ['2', '-', '-', '-', '9000', '-', '0']);
  assert.match(output, /pre_vote_ms: p50 280, p99 280; leader_ms: p50 310, p99 310; first_write_ms: p50 4670/);
});

test.run();
