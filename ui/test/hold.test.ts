import { describe, expect, it } from 'vitest';
import { Hold } from '../src/hold';

describe('Hold', () => {
  it('fires once when held for the full time', () => {
    const h = new Hold(1500);
    h.press(1000);
    expect(h.progress(1750)).toBe(0.5);
    expect(h.tick(2499)).toBe(false);
    expect(h.tick(2500)).toBe(true);
    expect(h.tick(2600)).toBe(false);
    expect(h.release(2700)).toBe('confirmed');
    expect(h.holding).toBe(false);
  });
  it('an early release is not a confirmation', () => {
    const h = new Hold(1000);
    h.press(0);
    expect(h.tick(999)).toBe(false);
    expect(h.release(999)).toBe('early');
    expect(h.progress(5000)).toBe(0);
  });
  it('a release without a press (a click) is nothing', () => {
    expect(new Hold(1000).release(10)).toBe('idle');
  });
  it('a second press while holding does not restart the clock', () => {
    const h = new Hold(1000);
    h.press(0);
    h.press(900);
    expect(h.tick(1000)).toBe(true);
  });
  it('cancel drops the hold without firing', () => {
    const h = new Hold(1000);
    h.press(0);
    h.cancel();
    expect(h.tick(2000)).toBe(false);
    expect(h.release(2000)).toBe('idle');
  });
  it('progress is clamped', () => {
    const h = new Hold(100);
    h.press(50);
    expect(h.progress(0)).toBe(0);
    expect(h.progress(1000)).toBe(1);
  });
});
