import { describe, expect, it } from 'vitest';
import { lambdaHeapFlags } from '../../bench/scenarios/fetch';

describe('lambdaHeapFlags (the heap flags the Lambda Node.js bootstrap starts a function with)', () => {
  it('gives a semi space of a twentieth of the memory and the old space nine tenths when NODE_OPTIONS names neither', () => {
    expect(lambdaHeapFlags(1769, '--enable-source-maps')).toEqual([
      '--max-semi-space-size=88',
      '--max-old-space-size=1593',
    ]);
    expect(lambdaHeapFlags(1024, '')).toEqual(['--max-semi-space-size=51', '--max-old-space-size=922']);
  });

  it('leaves the sizes to NODE_OPTIONS when it names one, in either spelling', () => {
    expect(lambdaHeapFlags(1769, '--enable-source-maps --max-semi-space-size=8')).toEqual([
      '--max-semi-space-size=8',
    ]);
    expect(lambdaHeapFlags(1769, '--max_old_space_size=1500 --enable-source-maps')).toEqual([
      '--max_old_space_size=1500',
    ]);
  });
});
