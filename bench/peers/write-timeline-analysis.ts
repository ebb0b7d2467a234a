// The analysis behind bench/peers/write-timeline.ts (issue 19): from `strace -tt -T` timelines of a
// cluster's three masters under one round of load, what one acknowledged write costs and where it
// waits, in counts a loaded machine does not move (fsyncs, event-loop turns, frames per write) and
// in the share of each request's time the leader spent in its own fsync, blocked in epoll (waiting
// for the network and the followers) and running (CPU, or waiting for one). It also counts the
// followers' acknowledgements that reached the leader while its event loop's thread was inside an
// fsync (inline storage): each waits for that fsync to end, which matters when the fsync is a
// later batch's (the acknowledged batch's commit and answers wait for it).
// Pure functions over the lines strace wrote, so a test can feed them lines.

/** One system call of one thread, as `strace -f -tt -T -s 64` prints it. */
export interface TracedCall {
  readonly thread: number;
  /** Start, ms since midnight. */
  readonly atMs: number;
  readonly call: string;
  /** The arguments as strace printed them, strings still escaped. */
  readonly args: string;
  /** The call's own duration (the `<seconds>` at the end), ms; 0 when strace printed none. */
  readonly durationMs: number;
}

/** Raft frame message type codes (src/raft/codec.ts messageTypeCodes; wire codes never change). */
const appendCode = 5;
const appendResponseCode = 6;
const frameMagicText = 'FLRT';
/** Offset of the first message's type code from the magic: magic 4, version 1, flags 1, count 4. */
const firstTypeOffset = 10;

const callPattern = /^(\d+)\s+(\d\d):(\d\d):(\d\d\.\d+) (\w+)\((.*)$/;
const resumedPattern = /^(\d+)\s+(\d\d):(\d\d):(\d\d\.\d+) <\.\.\. (\w+) resumed>(.*)$/;
const durationPattern = /<(\d+\.\d+)>\s*$/;

function clockMs(hours: string, minutes: string, seconds: string): number {
  return (Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000;
}

/**
 * The calls of one strace output, in order of their start. A call another thread interrupted
 * (`<unfinished ...>`, then `<... call resumed>`) is one call: its start, the resumed line's duration.
 */
export function parseStrace(text: string): TracedCall[] {
  const calls: TracedCall[] = [];
  const unfinished = new Map<number, { atMs: number; call: string; args: string }>();
  for (const line of text.split('\n')) {
    const resumed = resumedPattern.exec(line);
    if (resumed !== null) {
      const thread = Number(resumed[1]);
      const started = unfinished.get(thread);
      unfinished.delete(thread);
      if (started === undefined || started.call !== resumed[5]) continue;
      const duration = durationPattern.exec(line);
      calls.push({
        thread,
        atMs: started.atMs,
        call: started.call,
        args: started.args + resumed[6]!,
        durationMs: duration === null ? 0 : Number(duration[1]) * 1000,
      });
      continue;
    }
    const matched = callPattern.exec(line);
    if (matched === null) continue;
    const thread = Number(matched[1]);
    const atMs = clockMs(matched[2]!, matched[3]!, matched[4]!);
    const rest = matched[6]!;
    if (rest.endsWith('<unfinished ...>')) {
      unfinished.set(thread, { atMs, call: matched[5]!, args: rest });
      continue;
    }
    const duration = durationPattern.exec(rest);
    calls.push({
      thread,
      atMs,
      call: matched[5]!,
      args: rest,
      durationMs: duration === null ? 0 : Number(duration[1]) * 1000,
    });
  }
  return calls.sort((left, right) => left.atMs - right.atMs);
}

/** The bytes of a string strace printed (`\n`, `\"`, `\\`, octal `\ooo`, printable characters). */
export function unescapeStraceString(text: string): number[] {
  const bytes: number[] = [];
  const named: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, '"': 34, '\\': 92 };
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (character !== '\\') {
      bytes.push(character.charCodeAt(0));
      continue;
    }
    const next = text[index + 1];
    if (next !== undefined && named[next] !== undefined) {
      bytes.push(named[next]!);
      index += 1;
      continue;
    }
    const octal = /^[0-7]{1,3}/.exec(text.slice(index + 1));
    if (octal === null) {
      bytes.push(92);
      continue;
    }
    bytes.push(Number.parseInt(octal[0], 8));
    index += octal[0].length;
  }
  return bytes;
}

/** The type code of the first Raft message in the first frame a call's strings show, or null. */
export function raftMessageCode(args: string): number | null {
  for (const quoted of args.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    const bytes = unescapeStraceString(quoted[1]!);
    for (let start = 0; start + firstTypeOffset < bytes.length; start++) {
      let magic = true;
      for (let offset = 0; offset < frameMagicText.length && magic; offset++)
        magic = bytes[start + offset] === frameMagicText.charCodeAt(offset);
      if (magic) return bytes[start + firstTypeOffset]!;
    }
  }
  return null;
}

function isSync(call: TracedCall): boolean {
  return call.call === 'fsync' || call.call === 'fdatasync';
}

function isWrite(call: TracedCall): boolean {
  return call.call === 'write' || call.call === 'writev' || call.call === 'sendmsg' || call.call === 'sendto';
}

function isRead(call: TracedCall): boolean {
  return call.call === 'read' || call.call === 'readv' || call.call === 'recvfrom' || call.call === 'recvmsg';
}

function descriptorOf(call: TracedCall): number {
  return Number(/^(\d+),/.exec(call.args)?.[1] ?? -1);
}

export interface RequestWait {
  readonly method: string;
  /** From reading the request to writing its answer, ms. */
  readonly totalMs: number;
  /** In the leader's own fsyncs meanwhile, ms. */
  readonly fsyncMs: number;
  /** Blocked in epoll meanwhile (nothing to do: waiting for the followers or the network), ms. */
  readonly pollMs: number;
  /** The rest: running, or runnable and waiting for a CPU. */
  readonly otherMs: number;
}

/** Acknowledgements that waited for the end of a leader's fsync: how many, their share of all, mean wait. */
export interface AcksBehind {
  readonly count: number;
  readonly share: number;
  readonly meanWaitMs: number;
}

export interface WritePathSummary {
  /** PUT requests the leader read and answered within the trace. */
  readonly writes: number;
  readonly leaderFsyncsPerWrite: number;
  /** Each follower's fsyncs per write, in the order given. */
  readonly followerFsyncsPerWrite: readonly number[];
  /** The leader main thread's epoll_pwait calls per write: its event-loop turns. */
  readonly leaderTurnsPerWrite: number;
  /** Frames the leader wrote to its peers per write, and of those, appends. */
  readonly leaderFramesPerWrite: number;
  readonly leaderAppendFramesPerWrite: number;
  /** Acknowledgement frames (append responses) the followers wrote, per write. */
  readonly followerAcksPerWrite: number;
  /** Acknowledgements written while the leader was inside an fsync, by what it was writing. */
  readonly acksBehindOwnBatch: AcksBehind;
  readonly acksBehindLaterBatch: AcksBehind;
  /** Requests read and answered on the leader's main thread within the trace, with their waits. */
  readonly requests: readonly RequestWait[];
}

function overlapMs(calls: readonly TracedCall[], fromMs: number, toMs: number): number {
  let total = 0;
  for (const call of calls) {
    const start = Math.max(call.atMs, fromMs);
    const end = Math.min(call.atMs + call.durationMs, toMs);
    if (end > start) total += end - start;
  }
  return total;
}

/** The waits of each HTTP request the leader's main thread read and answered. */
export function requestWaits(leaderMain: readonly TracedCall[]): RequestWait[] {
  const syncs = leaderMain.filter(isSync);
  const polls = leaderMain.filter((call) => call.call === 'epoll_pwait' || call.call === 'epoll_wait');
  const openRequests = new Map<number, { method: string; readAtMs: number }>();
  const waits: RequestWait[] = [];
  for (const call of leaderMain) {
    const method = isRead(call) ? /"(PUT|POST|GET|DELETE) \//.exec(call.args)?.[1] : undefined;
    if (method !== undefined) {
      const descriptor = descriptorOf(call);
      if (!openRequests.has(descriptor)) openRequests.set(descriptor, { method, readAtMs: call.atMs });
      continue;
    }
    if (!isWrite(call) || !call.args.includes('"HTTP/1.1 ')) continue;
    const descriptor = descriptorOf(call);
    const request = openRequests.get(descriptor);
    if (request === undefined) continue;
    openRequests.delete(descriptor);
    const readAtMs = request.readAtMs;
    const totalMs = call.atMs - readAtMs;
    const fsyncMs = overlapMs(syncs, readAtMs, call.atMs);
    const pollMs = overlapMs(polls, readAtMs, call.atMs);
    waits.push({ method: request.method, totalMs, fsyncMs, pollMs, otherMs: Math.max(0, totalMs - fsyncMs - pollMs) });
  }
  return waits;
}

/**
 * The waits (ms) of the followers' acknowledgements written while the leader was inside an fsync
 * (inline storage: its event loop reads nothing until the fsync ends). `ownBatch`: the fsync wrote
 * the entries the acknowledgement is for (the follower had read the append the leader sent just
 * before that fsync): the reply needs the leader's own write anyway. `laterBatch`: the follower
 * had not read that append yet, so it acknowledged an earlier batch, already durable on the
 * leader, whose commit and answers waited for the next batch's fsync: unless the other follower
 * had acknowledged since this one read that batch's append (the batch was committed: this
 * acknowledgement was the second, which no answer waits for; it counts in neither list).
 */
export function acksBehindLeaderFsync(
  leaderMain: readonly TracedCall[],
  leaderSyncs: readonly TracedCall[],
  followers: readonly (readonly TracedCall[])[],
): { ownBatch: number[]; laterBatch: number[] } {
  const appendsSent = leaderMain
    .filter((call) => isWrite(call) && raftMessageCode(call.args) === appendCode)
    .map((call) => call.atMs);
  const isAck = (call: TracedCall) => isWrite(call) && raftMessageCode(call.args) === appendResponseCode;
  const acksOf = followers.map((calls) => calls.filter(isAck).map((call) => call.atMs));
  const ownBatch: number[] = [];
  const laterBatch: number[] = [];
  for (const [follower, calls] of followers.entries()) {
    const appendsRead = calls
      .filter((call) => isRead(call) && raftMessageCode(call.args) === appendCode)
      .map((call) => call.atMs);
    for (const ack of calls) {
      if (!isAck(ack)) continue;
      const sync = leaderSyncs.find((call) => call.atMs <= ack.atMs && ack.atMs < call.atMs + call.durationMs);
      if (sync === undefined) continue;
      const previousSyncEndMs = Math.max(
        Number.NEGATIVE_INFINITY,
        ...leaderSyncs.filter((call) => call.atMs < sync.atMs).map((call) => call.atMs + call.durationMs),
      );
      // The batch the fsync writes: the appends the leader sent since its previous fsync ended.
      const batchSentMs = appendsSent.find((sentMs) => sentMs > previousSyncEndMs && sentMs <= sync.atMs);
      const lastReadMs = Math.max(Number.NEGATIVE_INFINITY, ...appendsRead.filter((readMs) => readMs <= ack.atMs));
      const waitMs = sync.atMs + sync.durationMs - ack.atMs;
      if (batchSentMs !== undefined && lastReadMs >= batchSentMs) {
        ownBatch.push(waitMs);
        continue;
      }
      const secondAck = acksOf.some(
        (times, other) => other !== follower && times.some((atMs) => atMs >= lastReadMs && atMs < ack.atMs),
      );
      if (!secondAck) laterBatch.push(waitMs);
    }
  }
  return { ownBatch, laterBatch };
}

/** The event loop's thread of a traced process: its first thread, whose id is the process id. */
export function mainThreadOf(calls: readonly TracedCall[]): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const call of calls) lowest = Math.min(lowest, call.thread);
  return lowest;
}

/**
 * `leader`, `followers`: every thread's calls of each master; `leaderMainThread`: the leader's
 * process id (its event loop's thread). The writes are the PUT requests the leader read and answered.
 */
export function summarizeWritePath(
  leader: readonly TracedCall[],
  leaderMainThread: number,
  followers: readonly (readonly TracedCall[])[],
): WritePathSummary {
  const leaderMain = leader.filter((call) => call.thread === leaderMainThread);
  const requests = requestWaits(leaderMain);
  const writes = requests.filter((request) => request.method === 'PUT').length;
  const perWrite = (count: number): number => (writes === 0 ? 0 : count / writes);
  const leaderSyncs = leader.filter(isSync);
  const leaderFrames = leaderMain.filter((call) => isWrite(call) && raftMessageCode(call.args) !== null);
  const acks = followers
    .flatMap((calls) => calls.filter((call) => isWrite(call) && raftMessageCode(call.args) === appendResponseCode))
    .sort((left, right) => left.atMs - right.atMs);
  // Only an fsync on the event loop's thread holds acknowledgements (not the storage writer thread's).
  const behind = acksBehindLeaderFsync(leaderMain, leaderMain.filter(isSync), followers);
  const share = (ackWaits: readonly number[]): AcksBehind => ({
    count: ackWaits.length,
    share: acks.length === 0 ? 0 : ackWaits.length / acks.length,
    meanWaitMs: ackWaits.length === 0 ? 0 : ackWaits.reduce((sum, wait) => sum + wait, 0) / ackWaits.length,
  });
  return {
    writes,
    leaderFsyncsPerWrite: perWrite(leaderSyncs.length),
    followerFsyncsPerWrite: followers.map((calls) => perWrite(calls.filter(isSync).length)),
    leaderTurnsPerWrite: perWrite(
      leaderMain.filter((call) => call.call === 'epoll_pwait' || call.call === 'epoll_wait').length,
    ),
    leaderFramesPerWrite: perWrite(leaderFrames.length),
    leaderAppendFramesPerWrite: perWrite(
      leaderFrames.filter((call) => raftMessageCode(call.args) === appendCode).length,
    ),
    followerAcksPerWrite: perWrite(acks.length),
    acksBehindOwnBatch: share(behind.ownBatch),
    acksBehindLaterBatch: share(behind.laterBatch),
    requests,
  };
}
