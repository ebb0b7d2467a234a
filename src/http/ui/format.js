// Numbers, times and addresses as the UI writes them. Pure functions: no DOM, no clock (the time
// is passed in), so test/http/ui.test.ts runs them in Node.

/** "1.5", "12", "0.25": at most two decimals, no trailing zeros. */
export function trimNumber(value) {
  if (!Number.isFinite(value)) return '—';
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, '');
}

/** "1.5", "2 GiB", "100 ports": `mem` and `disk` are megabytes in Mesos. */
export function formatAmount(name, amount) {
  if (name === 'mem' || name === 'disk') {
    return amount >= 1024 ? `${trimNumber(amount / 1024)} GiB` : `${trimNumber(amount)} MiB`;
  }
  return trimNumber(amount);
}

/** "42.0%" of a 0..1 fraction. */
export function formatPercent(fraction) {
  if (!Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(1)}%`;
}

/** "0s", "12s", "3m", "2h", "4d": a span of time, rounded down to its largest unit. */
export function formatSpan(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** "just now", "12s ago", "3m ago", "2h ago", "4d ago". */
export function formatAgo(thenMs, nowMs) {
  return nowMs - thenMs < 1000 ? 'just now' : `${formatSpan(nowMs - thenMs)} ago`;
}

/** "2024-05-01 12:03:04" in the reader's time zone, or "" for no time. */
export function formatClock(ms) {
  if (!Number.isFinite(ms) || ms <= 0) return '';
  const date = new Date(ms);
  const pad = (value) => String(value).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** "950 ms", "12.5 s". */
export function formatMilliseconds(ms) {
  if (!Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${trimNumber(ms / 1000)} s`;
}

const masterAddressPattern = /^[A-Za-z0-9.-]{1,253}:\d{1,5}$|^\[[0-9A-Fa-f:.]{2,45}\]:\d{1,5}$/;

export function isMasterAddress(address) {
  return typeof address === 'string' && masterAddressPattern.test(address);
}

/**
 * A master's web origin, or null: only a host:port from the masters' own answers becomes a URL,
 * with this page's scheme, so a strange answer can never make a javascript: link or a request
 * to somewhere else.
 */
export function masterOrigin(address, protocol) {
  if (!isMasterAddress(address)) return null;
  const scheme = protocol === 'https:' ? 'https:' : 'http:';
  return `${scheme}//${address}`;
}

/** "TASK_RUNNING" → "running". */
export function shortState(state) {
  return typeof state === 'string'
    ? state
        .replace(/^TASK_/, '')
        .toLowerCase()
        .replaceAll('_', ' ')
    : '';
}
