import { sentence, withHint } from '../../src/errors';

/*
 * How a failure reads in a run's message: AWS's messages often end without a period, and a hint
 * follows them, so "…perform this action Grant the bot's role…" must not run together.
 */

describe('a failure as a sentence', () => {
  it('adds a period only where the text does not end a sentence', () => {
    expect(sentence('User is not authorized to perform this action')).toBe('User is not authorized to perform this action.');
    expect(sentence('Access Denied.')).toBe('Access Denied.');
    expect(sentence('Is it?')).toBe('Is it?');
    expect(sentence('Stop!')).toBe('Stop!');
    expect(sentence('Rate exceeded  ')).toBe('Rate exceeded.');
    expect(sentence('ends in a code span `x`')).toBe('ends in a code span `x`.');
  });

  it('joins a message and its hint as two sentences; a message alone is left as it is', () => {
    expect(withHint({ message: 'DeleteTable on `t` failed: denied', hint: 'Grant the permission.' })).toBe('DeleteTable on `t` failed: denied. Grant the permission.');
    expect(withHint({ message: 'denied.', hint: 'Grant it.' })).toBe('denied. Grant it.');
    expect(withHint({ message: 'denied' })).toBe('denied');
    expect(withHint({ message: 'denied', hint: '' })).toBe('denied');
    expect(withHint({ message: 'denied', hint: undefined })).toBe('denied');
  });
});
