import { expect } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';

/** The message of the ExportConfigError `run` throws; fails the test when it throws another error or none. */
export function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ExportConfigError);
    return (error as Error).message;
  }
  throw new Error('expected an ExportConfigError');
}
