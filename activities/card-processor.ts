/**
 * The simulated card processor behind the payment service (CONTRACT section 5). Pure: given a token and
 * the attempt number, it says what the processor answers.
 */
export type ProcessorAnswer =
  | { kind: 'approved' }
  | { kind: 'declined'; code: 'card_declined' | 'insufficient_funds' }
  | { kind: 'transient'; message: string }
  | { kind: 'slow' };

export const CARD_TOKENS = [
  'tok_visa',
  'tok_declined',
  'tok_insufficient_funds',
  'tok_flaky',
  'tok_slow',
] as const;

export function processorAnswer(token: string, attempt: number): ProcessorAnswer {
  switch (token) {
    case 'tok_visa':
      return { kind: 'approved' };
    case 'tok_declined':
      return { kind: 'declined', code: 'card_declined' };
    case 'tok_insufficient_funds':
      return { kind: 'declined', code: 'insufficient_funds' };
    case 'tok_flaky':
      return attempt <= 2
        ? { kind: 'transient', message: 'processor unavailable (simulated)' }
        : { kind: 'approved' };
    case 'tok_slow':
      return attempt === 1 ? { kind: 'slow' } : { kind: 'approved' };
    default:
      // An unknown token is a card the processor does not know: a permanent decline, not a retry.
      return { kind: 'declined', code: 'card_declined' };
  }
}
