// One seed per property-test run, printed so a failure replays exactly: FLOTILLA_SEED=<n>.
export function propertySeed(): number {
  const fromEnvironment = process.env.FLOTILLA_SEED;
  const seed =
    fromEnvironment !== undefined && fromEnvironment !== '' ? Number(fromEnvironment) : Date.now() % 2_147_483_647;
  if (!Number.isSafeInteger(seed)) throw new Error(`FLOTILLA_SEED must be a whole number, got "${fromEnvironment}"`);
  return seed;
}
