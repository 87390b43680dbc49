import { describe, expect, it } from 'vitest';
import { checkInputPce, readPceIdentity } from '../../lambdas/export/pce-choice';
import { configError } from '../support/errors';

const PROD = readPceIdentity({ PCE_NAME: 'prod', PCE_NAMES: 'prod,saas' });

describe('readPceIdentity', () => {
  it('reads the PCE and every PCE of the deployment', () => {
    expect(PROD).toEqual({ name: 'prod', names: ['prod', 'saas'] });
  });

  it('has no name and no names for a deployment whose one PCE has none', () => {
    expect(readPceIdentity({})).toEqual({ names: [] });
  });

  it.each([
    [{ PCE_NAME: 'Prod' }, /PCE_NAME holds an invalid PCE name "Prod"/],
    [{ PCE_NAME: 'prod', PCE_NAMES: 'saas,dev' }, /PCE_NAMES does not list PCE_NAME "prod"/],
  ])('names the variable that is invalid in %j', (env, message) => {
    expect(configError(() => readPceIdentity(env))).toMatch(message);
  });
});

describe('checkInputPce', () => {
  it('accepts the input of this state machine’s PCE', () => {
    expect(() => checkInputPce({ exportName: 'workloads', pce: 'prod' }, PROD)).not.toThrow();
  });

  it('requires the PCE in the input with several PCEs, naming them', () => {
    expect(configError(() => checkInputPce({ exportName: 'workloads' }, PROD))).toBe(
      'Invalid input: input.pce is required: this deployment exports from several PCEs (prod, saas), and this state machine is PCE "prod"\'s',
    );
  });

  it('rejects a PCE that is not configured, listing the configured ones', () => {
    expect(configError(() => checkInputPce({ pce: 'dev' }, PROD))).toBe(
      'Invalid input: input.pce "dev" is not a configured PCE (configured: prod, saas)',
    );
  });

  it("rejects another PCE's input, pointing at that PCE's state machine", () => {
    expect(configError(() => checkInputPce({ pce: 'saas' }, PROD))).toMatch(
      /input\.pce is "saas", but this state machine exports from PCE "prod": start PCE "saas"'s state machine instead/,
    );
  });

  it('lets the PCE be left out, or named, when a deployment has one named PCE', () => {
    const only = readPceIdentity({ PCE_NAME: 'prod', PCE_NAMES: 'prod' });

    expect(() => checkInputPce({ exportName: 'workloads' }, only)).not.toThrow();
    expect(() => checkInputPce({ exportName: 'workloads', pce: 'prod' }, only)).not.toThrow();
    expect(configError(() => checkInputPce({ pce: 'saas' }, only))).toMatch(/"saas" is not a configured PCE/);
  });

  it('rejects a PCE name for a deployment whose one PCE has no name', () => {
    expect(configError(() => checkInputPce({ pce: 'prod' }, readPceIdentity({})))).toMatch(
      /names a PCE, but this deployment has one PCE without a name; leave input.pce out/,
    );
    expect(() => checkInputPce({ path: '/labels' }, readPceIdentity({}))).not.toThrow();
  });
});
