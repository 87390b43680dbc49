import { describe, expect, it } from 'vitest';
import { mostInAnyWindow } from '../../bench/lib/per-minute';

describe('mostInAnyWindow', () => {
  it('counts nothing in an empty log', () => {
    expect(mostInAnyWindow([])).toBe(0);
  });

  it('counts the events of the busiest 60 s, wherever that window starts', () => {
    const times = [0, 10_000, 50_000, 61_000, 62_000, 65_000, 200_000];
    // 10 s … 65 s: five events fall within 60 s of one another.
    expect(mostInAnyWindow(times)).toBe(5);
  });

  it('leaves out an event exactly one window before the last', () => {
    expect(mostInAnyWindow([0, 60_000])).toBe(1);
    expect(mostInAnyWindow([0, 59_999])).toBe(2);
  });

  it('takes the window length it is given', () => {
    expect(mostInAnyWindow([0, 500, 1_000, 1_400], 1_000)).toBe(3);
  });
});
