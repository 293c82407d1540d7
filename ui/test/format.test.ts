import { describe, expect, it } from 'vitest';
import { ago, bytes, clock, duration, percent, plural, reveal } from '../src/format';

describe('format', () => {
  it('clock counts down in m:ss, h:mm:ss past an hour, never negative', () => {
    expect(clock(65_000)).toBe('1:05');
    expect(clock(999)).toBe('0:00');
    expect(clock(3_723_000)).toBe('1:02:03');
    expect(clock(-5_000)).toBe('0:00');
  });
  it('duration for uptimes', () => {
    expect(duration(12_000)).toBe('12 s');
    expect(duration(3 * 60_000 + 59_000)).toBe('3 min');
    expect(duration(125 * 60_000)).toBe('2 h 5 min');
    expect(duration((3 * 24 + 4) * 3_600_000)).toBe('3 d 4 h');
    expect(duration(-1)).toBe('0 s');
  });
  it('ago for last-seen times', () => {
    const now = 1_000_000_000;
    expect(ago(null, now)).toBe('never');
    expect(ago(now - 2_000, now)).toBe('just now');
    expect(ago(now - 42_000, now)).toBe('42 s ago');
    expect(ago(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(ago(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(ago(now - 2 * 86_400_000, now)).toBe('2 d ago');
  });
  it('bytes in binary units, one decimal below ten', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(734_003_200)).toBe('700 MiB');
    expect(bytes(1_288_490_189)).toBe('1.2 GiB');
    expect(bytes(1_288_490_188)).toBe('1.1 GiB');
    expect(bytes(-1)).toBe('—');
    expect(bytes(Number.NaN)).toBe('—');
  });
  it('percent of one core', () => {
    expect(percent(3.14)).toBe('3.1 %');
    expect(percent(104.7)).toBe('105 %');
    expect(percent(0)).toBe('0 %');
    expect(percent(Number.POSITIVE_INFINITY)).toBe('—');
  });
  it('plural', () => {
    expect(plural(1, 'record', 'records')).toBe('1 record');
    expect(plural(0, 'record', 'records')).toBe('0 records');
  });
  it('reveal shows bidi and zero-width characters and says so', () => {
    expect(reveal('rm -rf /tmp/x')).toEqual({ text: 'rm -rf /tmp/x', found: false });
    expect(reveal('a\u202Etxt.exe')).toEqual({ text: 'a⟪U+202E⟫txt.exe', found: true });
    expect(reveal('\u200Bx\u2066y\uFEFF').text).toBe('⟪U+200B⟫x⟪U+2066⟫y⟪U+FEFF⟫');
    // Newlines and markup stay as they are: they are text, shown as text.
    expect(reveal('<b>\nx</b>')).toEqual({ text: '<b>\nx</b>', found: false });
  });
});
