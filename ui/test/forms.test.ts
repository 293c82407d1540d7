import { describe, expect, it } from 'vitest';
import { actionLabel, actionOptions, AUDIT_ACTIONS, buildFilter, newestFirst } from '../src/audit-filter';
import type { SettingsView } from '../src/bindings/SettingsView';
import { checkDeviceName, fieldErrors, fromForm, toForm } from '../src/settings-form';

describe('audit filter', () => {
  it('builds the AuditFilter from the form', () => {
    expect(buildFilter('', '')).toEqual({ text: null, action: null, limit: 200 });
    expect(buildFilter('  tray ', 'stop')).toEqual({ text: 'tray', action: 'stop', limit: 200 });
    expect(buildFilter('x'.repeat(500), '').text).toHaveLength(200);
  });
  it('offers the known actions, then unknown ones seen in rows', () => {
    const opts = actionOptions(['stop', 'zz_new', '', 'aa_new', 'zz_new']);
    expect(opts.slice(0, AUDIT_ACTIONS.length)).toEqual(AUDIT_ACTIONS);
    expect(opts.slice(AUDIT_ACTIONS.length)).toEqual([['aa_new', 'aa_new'], ['zz_new', 'zz_new']]);
  });
  it('words for actions, unknown ones as they are', () => {
    expect(actionLabel('device_paired')).toBe('Phone paired');
    expect(actionLabel('<b>x</b>')).toBe('<b>x</b>');
  });
  it('lists newest first', () => {
    expect(newestFirst([{ seq: 1 }, { seq: 3 }, { seq: 2 }]).map((r) => r.seq)).toEqual([3, 2, 1]);
  });
});

const base: SettingsView = {
  link_enabled: true, broker: 'embedded', policy_file: '/p/policy.toml', approval_timeout_secs: 120,
  on_timeout: 'abstain', stop_grace_ms: 3000, start_at_login: false,
};

describe('settings form', () => {
  it('round-trips, keeping the read-only policy path from the shell', () => {
    const f = { ...toForm(base), broker: ' mqtts://b:8883 ', approval_timeout_secs: ' 60 ' };
    expect(fromForm(f, base)).toEqual({ settings: { ...base, broker: 'mqtts://b:8883', approval_timeout_secs: 60 } });
  });
  it('refuses what is not a whole number before asking the shell', () => {
    const r = fromForm({ ...toForm(base), approval_timeout_secs: '1.5', stop_grace_ms: '' }, base);
    expect(r).toEqual({ errors: { approval_timeout_secs: [expect.any(String)], stop_grace_ms: [expect.any(String)] } });
  });
  it('never sends an on-timeout other than abstain or deny', () => {
    expect(fromForm({ ...toForm(base), on_timeout: 'allow' }, base)).toEqual({ errors: { on_timeout: ['Choose abstain or deny.'] } });
  });
  it('groups the shell’s field errors', () => {
    expect(
      fieldErrors({ message: 'm', fields: [{ field: 'broker', message: 'a' }, { field: 'broker', message: 'b' }, { field: 'files', message: 'c' }] }),
    ).toEqual({ broker: ['a', 'b'], files: ['c'] });
  });
  it('checks device names', () => {
    expect(checkDeviceName('  Pixel 8 ')).toEqual({ name: 'Pixel 8' });
    expect(checkDeviceName('   ')).toHaveProperty('error');
    expect(checkDeviceName('x'.repeat(65))).toHaveProperty('error');
    expect(checkDeviceName('a\u202Eb')).toHaveProperty('error');
    expect(checkDeviceName('a\nb')).toHaveProperty('error');
    expect(checkDeviceName('<b>x</b>')).toEqual({ name: '<b>x</b>' });
  });
});
