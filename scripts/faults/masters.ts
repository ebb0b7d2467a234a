// The masters of a running cluster as an operator names them (--masters, FLOTILLA_MASTERS, or
// the `npm start` default), their /health, and which one leads.

export const defaultMasters = '127.0.0.1:5050,127.0.0.1:5051,127.0.0.1:5052';
const healthTimeoutMs = 1_000;

export interface MasterHealth {
  /** The address the operator gave for this master. */
  readonly address: string;
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
}

export function parseMasters(flag: string | undefined): string[] {
  const text = flag ?? process.env.FLOTILLA_MASTERS ?? defaultMasters;
  const masters = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  for (const master of masters) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(master)) throw new Error(`--masters: "${master}" is not host:port`);
  }
  if (masters.length === 0) throw new Error('--masters is empty');
  return masters;
}

export async function health(address: string): Promise<MasterHealth | null> {
  try {
    const response = await fetch(`http://${address}/health`, { signal: AbortSignal.timeout(healthTimeoutMs) });
    const body = (await response.json()) as { id?: unknown; role?: unknown; term?: unknown; leader?: unknown };
    if (typeof body.id !== 'string' || typeof body.role !== 'string' || typeof body.term !== 'number') return null;
    return {
      address,
      id: body.id,
      role: body.role,
      term: body.term,
      leader: typeof body.leader === 'string' ? body.leader : null,
    };
  } catch {
    return null;
  }
}

/** The master that says it leads in the highest term, among those that answer. */
export async function findLeader(masters: readonly string[]): Promise<MasterHealth | null> {
  const answers = await Promise.all(masters.map(health));
  let best: MasterHealth | null = null;
  for (const answer of answers)
    if (answer?.role === 'leader' && (best === null || answer.term > best.term)) best = answer;
  return best;
}

export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

export function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':'));
}
