// The read-only commands of the interaction scripts: they print state, and change nothing.
import { formatEntry, formatMembership, formatMessage, showNode } from './format.ts';
import type { HarnessNode } from '../support/harness.ts';
import { type Arguments, required } from './arguments.ts';
import type { Scenario } from './scenario.ts';

function statusLine(node: HarnessNode): string {
  if (!node.up) {
    const disk = node.disk;
    const last = disk.entries[disk.entries.length - 1]?.index ?? disk.snapshot?.meta.index ?? 0;
    return `${node.id} down (disk: term=${disk.hardState.term} vote=${showNode(disk.hardState.vote)} commit=${disk.hardState.commit} last=${last})`;
  }
  const status = node.core.status();
  const first = status.firstIndex > 1 ? ` first=${status.firstIndex}` : '';
  const transferee = status.transferee === '' ? '' : ` transferee=${status.transferee}`;
  const held = node.held ? ' (held)' : '';
  return (
    `${node.id} ${status.role} term=${status.term} vote=${showNode(status.vote)} leader=${showNode(status.leader)} ` +
    `commit=${status.commit} applied=${status.applied} last=${status.lastIndex} snapshot=${status.snapshotIndex}${first}${transferee}${held}`
  );
}

export function printStatus(scenario: Scenario, args: Arguments): void {
  const ids = args.positional.length > 0 ? args.positional : [...scenario.harness.nodes.keys()];
  for (const id of ids) scenario.print(statusLine(scenario.node(id)));
}

export function printLog(scenario: Scenario, args: Arguments): void {
  const node = scenario.upNode(required(args, 0, 'node id'));
  const status = node.core.status();
  if (status.firstIndex > 1) scenario.print(`(compacted through ${status.firstIndex - 1})`);
  for (const entry of node.core.entriesForInspection(status.firstIndex, status.lastIndex + 1))
    scenario.print(formatEntry(entry));
  if (status.lastIndex < status.firstIndex) scenario.print('(empty)');
}

export function printDisk(scenario: Scenario, args: Arguments): void {
  const disk = scenario.node(required(args, 0, 'node id')).disk;
  scenario.print(
    `hard-state term=${disk.hardState.term} vote=${showNode(disk.hardState.vote)} commit=${disk.hardState.commit}`,
  );
  if (disk.snapshot !== null) {
    const meta = disk.snapshot.meta;
    scenario.print(
      `snapshot ${meta.index}/${meta.term} ${formatMembership(meta.membership)} bytes=${disk.snapshot.data.byteLength}`,
    );
  }
  for (const entry of disk.entries) scenario.print(formatEntry(entry));
}

export function printApplied(scenario: Scenario, args: Arguments): void {
  const node = scenario.node(required(args, 0, 'node id'));
  scenario.print(`[${node.stateMachine.join(' ')}]`);
  if (node.duplicates !== undefined && node.duplicates.length > 0) {
    scenario.print(`duplicates skipped: ${node.duplicates.map((entry) => formatEntry(entry)).join(', ')}`);
  }
  if (node.reusedKeys !== undefined && node.reusedKeys.length > 0) {
    scenario.print(`reused keys refused: ${node.reusedKeys.map((entry) => formatEntry(entry)).join(', ')}`);
  }
}

export function printMessages(scenario: Scenario): void {
  for (const message of scenario.harness.queue) scenario.print(formatMessage(message));
}

export function printReads(scenario: Scenario, args: Arguments): void {
  const node = scenario.node(required(args, 0, 'node id'));
  const shown = scenario.readsShown.get(node.id) ?? { states: 0, failures: 0 };
  for (const read of node.readStates.slice(shown.states))
    scenario.print(`read ctx=${read.context} index=${read.index}`);
  for (const failure of node.readFailures.slice(shown.failures))
    scenario.print(`failed ctx=${failure.context} reason=${failure.reason}`);
  scenario.readsShown.set(node.id, { states: node.readStates.length, failures: node.readFailures.length });
}

export function printMembership(scenario: Scenario, args: Arguments): void {
  scenario.print(formatMembership(scenario.upNode(required(args, 0, 'node id')).core.status().membership));
}

export function printProgress(scenario: Scenario, args: Arguments): void {
  const progress = scenario.upNode(required(args, 0, 'node id')).core.status().progress;
  for (const id of Object.keys(progress).sort()) {
    const entry = progress[id]!;
    scenario.print(`${id} match=${entry.match} next=${entry.next} state=${entry.state}`);
  }
}
