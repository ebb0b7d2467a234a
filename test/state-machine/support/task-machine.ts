// A machine with many running tasks for the snapshot tests (sizes, formats, sliced writers),
// applied without the harness's per-command checks so thousands of tasks stay quick.
import * as assert from 'uvu/assert';
import { encodeCommand } from '../../../src/state-machine/codec.ts';
import type { Command } from '../../../src/state-machine/commands.ts';
import { agentId, offerId, taskId } from '../../../src/state-machine/ids.ts';
import { ClusterStateMachine } from '../../../src/state-machine/machine.ts';
import {
  accept,
  agentInfo,
  cpus,
  createOffers,
  launch,
  mem,
  offerDefinition,
  registerAgent,
  resources,
  subscribe,
  taskDefinition,
} from './fixtures.ts';

/** `agents` agents each running `tasksPerAgent` tasks of f1 (1 cpu, 256 mem, the fixtures' command). */
export function taskMachine(agents: number, tasksPerAgent: number): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  let index = 0;
  const run = (command: Command): void => {
    const result = machine.apply(encodeCommand(command), ++index);
    assert.ok(result.ok, JSON.stringify(result));
  };
  run(subscribe());
  for (let number = 0; number < agents; number++) {
    const agent = agentId(`agent-${number}`);
    const held = resources(cpus(tasksPerAgent), mem(256 * tasksPerAgent));
    run(registerAgent(agent, agentInfo({ hostname: `host-${number}`, resources: held })));
    const offer = offerId(`offer-${number}`);
    run(createOffers(offerDefinition(offer, held, { agentId: agent })));
    const tasks = Array.from({ length: tasksPerAgent }, (_, slot) =>
      taskDefinition(taskId(`task-${number}-${slot}`), resources(cpus(1), mem(256))),
    );
    run(accept([offer], [launch(...tasks)]));
  }
  return machine;
}
