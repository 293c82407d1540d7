import { describe, expect, it } from 'vitest';
import { HALT_EVENT, OPEN_EVENT, STATE_EVENT, tauriApi, toUiError } from '../src/api';

function fake(reply: unknown = null, reject = false) {
  const calls: Array<[string, unknown]> = [];
  const listened: string[] = [];
  const api = tauriApi(
    async <T>(cmd: string, args?: Record<string, unknown>) => {
      calls.push([cmd, args]);
      if (reject) throw reply;
      return reply as T;
    },
    async (event) => {
      listened.push(event);
      return () => {};
    },
  );
  return { api, calls, listened };
}

describe('tauriApi', () => {
  it('sends the shell’s command names with camelCase argument objects', async () => {
    const { api, calls } = fake();
    await api.getState();
    await api.takePending();
    await api.halt('stop', 'all');
    await api.alertAction('stop_supervisor', 'openclaw-9-1');
    await api.softStop('openclaw-9-1');
    await api.decide('r1', 'h1', 'approve_session', true);
    await api.pairStart();
    await api.pairNext('s1');
    await api.pairAnswer('s1', false);
    await api.devices();
    await api.renameDevice('d1', 'Pixel');
    await api.revokeDevice('d1');
    await api.audit({ text: null, action: 'stop', limit: 200 });
    await api.auditVerify();
    await api.settings();
    const s = { link_enabled: true, broker: 'embedded', policy_file: 'p', approval_timeout_secs: 1, on_timeout: 'deny', stop_grace_ms: 0, start_at_login: true };
    await api.saveSettings(s);
    expect(calls).toEqual([
      ['get_state', undefined],
      ['take_pending', undefined],
      ['halt', { op: 'stop', target: 'all' }],
      ['alert_action', { action: 'stop_supervisor', agentId: 'openclaw-9-1' }],
      ['soft_stop', { agentId: 'openclaw-9-1' }],
      ['decide', { requestId: 'r1', actionHash: 'h1', decision: 'approve_session', confirmedHighRisk: true }],
      ['pair_start', undefined],
      ['pair_next', { session: 's1' }],
      ['pair_answer', { session: 's1', accept: false }],
      ['devices', undefined],
      ['rename_device', { id: 'd1', name: 'Pixel' }],
      ['revoke_device', { id: 'd1' }],
      ['audit', { filter: { text: null, action: 'stop', limit: 200 } }],
      ['audit_verify', undefined],
      ['settings', undefined],
      ['save_settings', { settings: s }],
    ]);
  });
  it('listens to the shell’s three events', async () => {
    const { api, listened } = fake();
    await api.onState(() => {});
    await api.onOpen(() => {});
    await api.onHalt(() => {});
    expect(listened).toEqual([STATE_EVENT, OPEN_EVENT, HALT_EVENT]);
    expect(listened).toEqual(['reins://state', 'reins://open', 'reins://halt']);
  });
  it('rejects with a UiError, whatever the shell threw', async () => {
    const err = { message: 'Refused', fields: [{ field: 'broker', message: 'bad' }] };
    await expect(fake(err, true).api.saveSettings({} as never)).rejects.toEqual(err);
    await expect(fake('plain text', true).api.devices()).rejects.toEqual({ message: 'plain text', fields: [] });
    await expect(fake(undefined, true).api.devices()).rejects.toMatchObject({ fields: [] });
  });
  it('toUiError keeps only well-formed field errors', () => {
    expect(toUiError({ message: 'm', fields: [{ field: 'broker', message: 'x' }, { field: 1 }, null, 'x'] })).toEqual({
      message: 'm',
      fields: [{ field: 'broker', message: 'x' }],
    });
    expect(toUiError(new Error('boom'))).toEqual({ message: 'boom', fields: [] });
  });
});
