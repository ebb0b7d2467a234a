// Which agents run on which maintenance machine (Mesos MachineID: hostname and/or ip), and
// whether an agent's machine is down (a yes/no answer: it does not depend on Map order).
import type { Agent, ReplicatedState } from './state.ts';
import type { MachineId } from './values.ts';

export function agentOnMachine(agent: Agent, machine: MachineId): boolean {
  if (machine.hostname !== '' && machine.hostname !== agent.hostname) return false;
  if (machine.ip !== '' && machine.ip !== agent.address.ip) return false;
  return machine.hostname !== '' || machine.ip !== '';
}

export function agentIsDown(state: ReplicatedState, agent: Agent): boolean {
  // No maintenance at all (the usual case) needs no iterator: the allocator asks for every agent twice a cycle.
  if (state.machines.size === 0) return false;
  for (const status of state.machines.values()) {
    if (status.mode === 'DOWN' && agentOnMachine(agent, status.machine)) return true;
  }
  return false;
}
