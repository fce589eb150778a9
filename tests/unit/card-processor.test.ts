import { describe, expect, it } from 'vitest';
import { processorAnswer } from '../../activities/card-processor.js';

describe('simulated card processor', () => {
  it('approves tok_visa and declines the declining tokens on every attempt', () => {
    for (const attempt of [1, 2, 5]) {
      expect(processorAnswer('tok_visa', attempt)).toEqual({ kind: 'approved' });
      expect(processorAnswer('tok_declined', attempt)).toEqual({ kind: 'declined', code: 'card_declined' });
      expect(processorAnswer('tok_insufficient_funds', attempt)).toEqual({
        kind: 'declined',
        code: 'insufficient_funds',
      });
    }
  });

  it('fails tok_flaky transiently twice, then approves', () => {
    expect(processorAnswer('tok_flaky', 1).kind).toBe('transient');
    expect(processorAnswer('tok_flaky', 2).kind).toBe('transient');
    expect(processorAnswer('tok_flaky', 3)).toEqual({ kind: 'approved' });
  });

  it('is slow on tok_slow’s first attempt only, and declines unknown tokens', () => {
    expect(processorAnswer('tok_slow', 1)).toEqual({ kind: 'slow' });
    expect(processorAnswer('tok_slow', 2)).toEqual({ kind: 'approved' });
    expect(processorAnswer('tok_unknown', 1)).toEqual({ kind: 'declined', code: 'card_declined' });
  });
});
