import { describe, expect, it } from 'vitest';
import { terminalSafe } from './terminal-text.js';

describe('terminalSafe', () => {
  it('escapes C0 and C1 controls, DEL and bidi controls, and leaves other text alone', () => {
    expect(terminalSafe('\x1b]0;pwned\x07title')).toBe('\\x1b]0;pwned\\x07title');
    expect(terminalSafe('a\u009b31mb\x7fc')).toBe('a\\x9b31mb\\x7fc');
    expect(terminalSafe('file\u202egnp.exe \u2066x\u2069')).toBe('file\\u202egnp.exe \\u2066x\\u2069');
    expect(terminalSafe('two\nlines\r\tand tab')).toBe('two\\nlines\\r\\tand tab');
    expect(terminalSafe('Grüße, 温度 {"t":1} \\x1b')).toBe('Grüße, 温度 {"t":1} \\x1b');
  });

  it('keeps tabs and newlines when asked, but never a carriage return', () => {
    expect(terminalSafe('{\n\t"a": 1\r\n}\x1b[2J', { keepLayout: true })).toBe('{\n\t"a": 1\\r\n}\\x1b[2J');
  });
});
