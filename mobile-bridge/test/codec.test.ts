// Strict base64url, hex, and the strict JSON parser.
import { describe, expect, it } from 'vitest';
import { b64uDecode, b64uEncode, hexDecode, hexEncode } from '../src/proto/bytes.js';
import { JsonNum, parseStrictJson, uint } from '../src/proto/json.js';

describe('strict base64url', () => {
  it('round-trips every length from 0 to 40 bytes', () => {
    for (let n = 0; n <= 40; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      expect(b64uDecode(b64uEncode(b))).toEqual(b);
    }
  });
  it('matches RFC 4648 test strings without padding', () => {
    const cases: [string, string][] = [['', ''], ['f', 'Zg'], ['fo', 'Zm8'], ['foo', 'Zm9v'], ['foobar', 'Zm9vYmFy']];
    for (const [plain, enc] of cases) expect(b64uEncode(new TextEncoder().encode(plain))).toBe(enc);
  });
  it('refuses padding', () => expect(b64uDecode('Zg==')).toBeNull());
  it('refuses the standard alphabet', () => {
    expect(b64uDecode('+/8')).toBeNull();
    expect(b64uDecode('-_8')).not.toBeNull();
  });
  it('refuses whitespace anywhere', () => {
    for (const s of [' Zm9v', 'Zm9v ', 'Zm\n9v', 'Zm\t9v']) expect(b64uDecode(s)).toBeNull();
  });
  it('refuses non-canonical trailing bits', () => {
    expect(b64uDecode('Zh')).toBeNull(); // 'Zg' is canonical for "f"
    expect(b64uDecode('Zm9')).toBeNull(); // 'Zm8' is canonical for "fo"
  });
  it('refuses an impossible length', () => expect(b64uDecode('Zm9vY')).toBeNull());
});

describe('hex', () => {
  it('encodes lowercase and round-trips', () => {
    expect(hexEncode(Uint8Array.of(0, 171, 255))).toBe('00abff');
    expect(hexDecode('00abff')).toEqual(Uint8Array.of(0, 171, 255));
  });
  it('refuses odd lengths and non-hex characters', () => {
    expect(hexDecode('abc')).toBeNull();
    expect(hexDecode('zz')).toBeNull();
  });
});

describe('strict JSON', () => {
  it('refuses duplicate keys, which JSON.parse would silently merge', () => {
    expect(() => parseStrictJson('{"a":1,"a":2}')).toThrow();
    expect(() => parseStrictJson('{"x":{"b":1,"b":1}}')).toThrow();
  });
  it('keeps the literal text of numbers so integers can refuse 7.0 and 1e3', () => {
    const v = parseStrictJson('[7, 7.0, 1e3, -1, 9007199254740991, 9007199254740992]') as JsonNum[];
    expect(v.map((n) => uint(n))).toEqual([7, null, null, null, 9007199254740991, null]);
  });
  it('refuses trailing data, bad escapes and raw control characters', () => {
    for (const s of ['{} x', '"\\x"', '"a\u0001"', '{"a":01}', '[1,]', "{'a':1}"]) {
      expect(() => parseStrictJson(s)).toThrow();
    }
  });
  it('parses nested values and escapes', () => {
    expect(parseStrictJson('{"a":[true,false,null,"\\u00e9\\n"]}')).toEqual({ a: [true, false, null, 'é\n'] });
  });
});
