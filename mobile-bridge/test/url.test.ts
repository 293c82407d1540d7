// The pairing URL of §9.1: every rule, and expiry with `now` as an input.
import { describe, expect, it } from 'vitest';
import { loadVector } from './vectors.js';
import { OfferError, offerTimeOk, parsePairingUrl } from '../src/proto/url.js';

const v = loadVector('pairing-url.json');
const url: string = v.url;
const refused = (u: string) => {
  try {
    parsePairingUrl(u);
  } catch (e) {
    return e instanceof OfferError ? e.code : 'other';
  }
  return 'parsed';
};

describe('parsing a pairing URL', () => {
  const bad: [string, string][] = [
    ['another version', url.replace('#v=1', '#v=2')],
    ['no broker', url.replaceAll('&b=', '&c=')],
    ['a repeated token', `${url}&tok=AAAAAAAAAAAAAAAAAAAAAA`],
    ['a prefix with a forbidden character', url.replace('&tp=reins%2F', '&tp=%23')],
    ['a topic with a plus sign', url.replace('&t=reins%2F', '&t=%2B%2F')],
    ['an http broker', url.replace('mqtts%3A', 'http%3A')],
    ['no fragment', url.replace('#', '?')],
    ['a negative expiry', url.replace('&exp=', '&exp=-')],
    ['a short public key', url.replace('&pk=', '&pk=AA')],
    ['a broken percent escape', `${url}&b=%ZZ`],
    ['a truncated percent escape', `${url}&b=ws%3`],
    ['a percent escape with a sign', `${url}&b=ws%+3A`],
    ['a percent escape that is not UTF-8', `${url}&b=ws%FF`],
    ['a pair without "="', `${url}&junk`],
    ['a missing version', url.replace('#v=1&', '#')],
    ['a missing public key', url.replace(/&pk=[^&]*/, '')],
    ['a missing token', url.replace(/&tok=[^&]*/, '')],
    ['a missing topic', url.replace(/&t=[^&]*/, '')],
    ['a missing expiry', url.replace(/&exp=[^&]*/, '')],
    ['an empty expiry', url.replace(/&exp=[^&]*/, '&exp=')],
    ['an expiry in another notation', url.replace(/&exp=[^&]*/, '&exp=1.7e12')],
    ['a padded token', url.replace(/&tok=[^&]*/, '&tok=pqudjMPIAqZxOksR-lsiyQ%3D%3D')],
    ['a token in the standard alphabet', url.replace('-lsiyQ', '%2BlsiyQ')],
    ['a token with a literal plus, which is not a space', url.replace('-lsiyQ', '+lsiyQ')],
    ['a prefix without a trailing slash', url.replace('&tp=reins%2F', '&tp=reins')],
    ['five brokers', `${url}&b=ws%3A%2F%2Fa&b=ws%3A%2F%2Fb&b=ws%3A%2F%2Fc`],
    ['a broker longer than 256 bytes', `${url}&b=ws%3A%2F%2F${'a'.repeat(260)}`],
    ['a broker with a control character', `${url}&b=ws%3A%2F%2Fa%0A`],
    ['a repeated expiry', `${url}&exp=1`],
    ['a repeated topic', `${url}&t=abc`],
  ];
  for (const [name, u] of bad) {
    it(`refuses ${name}`, () => expect(refused(u)).not.toBe('parsed'));
  }

  it('ignores unknown keys', () => expect(refused(`${url}&future=1`)).toBe('parsed'));
  it('defaults a missing prefix to empty', () => {
    const o = parsePairingUrl(url.replace('&tp=reins%2F', ''));
    expect(o.topicPrefix).toBe('');
  });
  it('accepts lowercase percent escapes', () => {
    expect(parsePairingUrl(url.replace('reins%2F1648', 'reins%2f1648')).pairingTopic).toBe(v.pairing_topic);
  });
  it('reports the version as unsupported rather than malformed', () => {
    expect(refused(url.replace('#v=1', '#v=2'))).toBe('unsupported_version');
  });
});

describe('the offer lifetime', () => {
  const o = parsePairingUrl(url);
  const exp: number = v.expires_at_ms;
  it('is valid up to 120 s after exp and refused one millisecond later', () => {
    expect(offerTimeOk(o, exp + 120_000)).toBe(true);
    expect(offerTimeOk(o, exp + 120_001)).toBe(false);
  });
  it('is refused when it claims to live longer than 3 minutes plus skew', () => {
    expect(offerTimeOk(o, exp - 300_000)).toBe(true);
    expect(offerTimeOk(o, exp - 300_001)).toBe(false);
  });
});
