// Counts event-loop turns (a callback that queues itself again on every turn) until stopped: a
// test of work done in slices checks the loop turned between them.
export interface TurnCounter {
  turns(): number;
  stop(): void;
}

export function turnCounter(): TurnCounter {
  let turns = 0;
  let counting = true;
  const count = (): void => {
    turns++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  return {
    turns: () => turns,
    stop: () => {
      counting = false;
    },
  };
}
