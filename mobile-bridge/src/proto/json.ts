// A small strict JSON parser for untrusted input. Unlike JSON.parse it
// refuses duplicate keys (JSON.parse silently keeps the last one) and keeps
// each number's literal text, so integer fields can refuse `7.0` and `1e3`.
// Not a serializer, and not for trusted data (use JSON.parse there).

/** A number as written on the wire. */
export class JsonNum {
  constructor(readonly raw: string) {}
  get value(): number {
    return Number(this.raw);
  }
}
export type JsonValue = null | boolean | string | JsonNum | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

const MAX_DEPTH = 32;

export class JsonError extends Error {}

export function parseStrictJson(text: string): JsonValue {
  let i = 0;
  const fail = (why: string): never => {
    throw new JsonError(`${why} at ${i}`);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        const e = text[i + 1];
        i += 2;
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) out += simple[e];
        else if (e === 'u') {
          const h = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(h, 16));
          i += 4;
        } else fail('bad escape');
      } else {
        out += text[i];
        i++;
      }
    }
  };
  const num = (): JsonNum => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('bad number');
    i += m![0].length;
    return new JsonNum(m![0]);
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail('too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: JsonObject = Object.create(null);
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected key');
        const k = str();
        if (Object.prototype.hasOwnProperty.call(obj, k)) fail('duplicate key');
        ws();
        if (text[i] !== ':') fail('expected colon');
        i++;
        obj[k] = value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return arr;
        } else fail('expected , or ]');
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    return fail('unexpected token');
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing data');
  return v;
}

export const isObject = (v: JsonValue | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !(v instanceof JsonNum) && !Array.isArray(v);

export const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 - 1

/** A non-negative integer literal (no fraction, no exponent, no sign) ≤ max, or null. */
export function uint(v: JsonValue | undefined, max: number = MAX_SAFE): number | null {
  if (!(v instanceof JsonNum) || !/^(0|[1-9][0-9]*)$/.test(v.raw) || v.raw.length > 16) return null;
  const n = Number(v.raw);
  return n <= max ? n : null;
}

/** Any finite JSON number (for floats such as cpu_percent). */
export function float(v: JsonValue | undefined): number | null {
  if (!(v instanceof JsonNum)) return null;
  const n = v.value;
  return Number.isFinite(n) ? n : null;
}
