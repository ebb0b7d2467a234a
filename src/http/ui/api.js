// The web UI's calls to the master that served it (same origin, no CORS): /health, and the
// operator API at POST /api/v1. Every request is bounded in time; no request is ever followed
// to another origin (a follower's 307 to the leader would be a cross-origin POST the leader
// does not allow), so the page shows this master's own view and links to the leader instead.

/** A master that has not answered in this long counts as not answering. */
export const requestTimeoutMs = 5000;

export class MasterUnavailable extends Error {
  constructor(message) {
    super(message);
    this.name = 'MasterUnavailable';
  }
}

async function request(path, init) {
  let response;
  try {
    response = await fetch(path, {
      ...init,
      redirect: 'manual',
      cache: 'no-store',
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
  } catch (error) {
    const why = error?.name === 'TimeoutError' ? `no answer in ${requestTimeoutMs / 1000} s` : 'no connection';
    throw new MasterUnavailable(`${path}: ${why}`);
  }
  return response;
}

/** The error envelope's code and message, or the status line when the body is not ours. */
async function describeFailure(path, response) {
  if (response.type === 'opaqueredirect')
    return { status: 307, code: 'NOT_LEADER', message: `${path}: answered by the leader only` };
  let code = `HTTP_${response.status}`;
  let message = response.statusText;
  try {
    const body = await response.json();
    if (typeof body?.error?.code === 'string') code = body.error.code;
    if (typeof body?.error?.message === 'string') message = body.error.message;
  } catch {
    // Not JSON: a proxy's page, say; the status line is all there is to tell.
  }
  return { status: response.status, code, message };
}

export async function getHealth() {
  const response = await request('/health', { method: 'GET', headers: { accept: 'application/json' } });
  if (!response.ok) {
    const failure = await describeFailure('/health', response);
    throw new MasterUnavailable(`/health: ${failure.code}: ${failure.message}`);
  }
  return response.json();
}

/**
 * One operator call. Resolves to {ok: true, body} or {ok: false, status, code, message}; only
 * a master that does not answer at all rejects (MasterUnavailable).
 */
export async function operatorCall(type, { stale = false } = {}) {
  const path = stale ? '/api/v1?stale=true' : '/api/v1';
  const response = await request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ type }),
  });
  if (!response.ok) return { ok: false, ...(await describeFailure(type, response)) };
  const body = await response.json();
  return { ok: true, body: body?.[type.toLowerCase()] ?? null };
}

/**
 * Everything one refresh draws. GET_STATE is a linearizable read; when the cluster cannot do one
 * (no leader: 503) the page falls back to this master's applied state and says it is stale.
 * GET_ALLOCATION lives in the leader's memory: a follower answers 307, and the page says so.
 */
export async function loadSnapshot() {
  const health = await getHealth();
  const [raft, linearizable] = await Promise.all([operatorCall('GET_RAFT'), operatorCall('GET_STATE')]);
  let state = linearizable;
  let stale = false;
  if (!state.ok && state.status === 503) {
    state = await operatorCall('GET_STATE', { stale: true });
    stale = true;
  }
  if (!state.ok) throw new MasterUnavailable(`GET_STATE: ${state.code}: ${state.message}`);
  const allocation = health.role === 'leader' ? await operatorCall('GET_ALLOCATION') : null;
  return {
    health,
    raft: raft.ok ? raft.body : null,
    state: state.body,
    stale,
    allocation: allocation?.ok ? allocation.body : null,
  };
}
