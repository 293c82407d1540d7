import { describe, expect, it } from 'vitest';
import type { AgentView } from '../src/bindings/AgentView';
import type { ApprovalView } from '../src/bindings/ApprovalView';
import type { DesktopState } from '../src/bindings/DesktopState';
import { agentRow, agentRows, agentsSummary, anyStoppable, approvalModel, counts, daemonBanner, haltMessage, softStopMessage, trayIcon } from '../src/model';

const NOW = 1_800_000_000_000;
const agent = (id: string, state: AgentView['state'], startedAgoMs = 60_000, extra: Partial<AgentView> = {}): AgentView => ({
  id, kind: 'claude', name: 'Claude Code', project: 'api', cwd: '/home/sam/src/api', pid: 42, state,
  started_at_ms: NOW - startedAgoMs, cpu_percent: 12.4, memory_bytes: 734_003_200, processes: 12, ...extra,
});
const approval = (id: string, extra: Partial<ApprovalView> = {}): ApprovalView => ({
  request_id: id, action_hash: 'h', agent_id: null, agent_name: 'Codex', tool: 'Bash', command: 'ls', cwd: '/tmp',
  action: '{"command":"ls"}', risk: 'normal', reason: null, allow_session: true, session: null, created_at_ms: NOW - 1000, expires_at_ms: NOW + 65_000, ...extra,
});
const state = (p: Partial<DesktopState> = {}): DesktopState => ({
  daemon: 'connected', daemon_error: null, agents: [], pending: [], surfaces: [], surface_notes: [], link: null, alerts: [], audit_problem: null, ...p,
});

describe('agents', () => {
  it('a row has every column and the buttons its state allows', () => {
    const r = agentRow(agent('a', 'running', 83 * 60_000), NOW);
    expect(r).toMatchObject({ name: 'Claude Code', project: 'api', pid: '42', stateLabel: 'Running', uptime: '1 h 23 min', cpu: '12 %', memory: '700 MiB', processes: '12', ops: ['pause', 'stop'] });
    expect(agentRow(agent('a', 'paused'), NOW).ops).toEqual(['resume', 'stop']);
    expect(agentRow(agent('a', 'stopping'), NOW).ops).toEqual([]);
    expect(agentRow(agent('a', 'exited'), NOW)).toMatchObject({ ops: [], uptime: '—' });
    expect(agentRow(agent('a', 'running', 0, { project: null, cwd: null }), NOW)).toMatchObject({ project: '—', cwd: null });
  });
  it('only a running OpenClaw agent offers "Stop this run", and always beside Stop', () => {
    const oc = (state: AgentView['state']) => agentRow(agent('openclaw-9-1', state, 60_000, { kind: 'openclaw', name: 'OpenClaw' }), NOW);
    expect(oc('running')).toMatchObject({ softStop: true, ops: ['pause', 'stop'] });
    expect(oc('paused')).toMatchObject({ softStop: false, ops: ['resume', 'stop'] });
    expect(oc('stopping').softStop).toBe(false);
    expect(oc('exited').softStop).toBe(false);
    expect(agentRow(agent('a', 'running'), NOW).softStop).toBe(false);
  });
  it('a soft stop says what OpenClaw did, each session only when it adds something', () => {
    const run = (session_key: string, ok: boolean, detail: string) => ({ session_key, aborted: ok, ok, detail });
    expect(softStopMessage({ target: 't', success: true, summary: 'Aborted the run in agent:main:main; the gateway stays up.', runs: [run('agent:main:main', true, 'aborted')] }))
      .toEqual({ ok: true, text: 'Aborted the run in agent:main:main; the gateway stays up.', details: [] });
    expect(softStopMessage({ target: 't', success: true, summary: 'No run was active; nothing to abort.', runs: [] }))
      .toEqual({ ok: true, text: 'No run was active; nothing to abort.', details: [] });
    expect(softStopMessage({ target: 't', success: false, summary: '', runs: [run('a', true, 'aborted'), run('b', false, 'not aborted: timeout')] }))
      .toEqual({ ok: false, text: 'Stop this run failed', details: ['a: aborted', 'b: not aborted: timeout'] });
  });
  it('live agents first, then oldest first', () => {
    const s = state({ agents: [agent('x', 'exited', 10), agent('p', 'paused', 10), agent('r2', 'running', 5), agent('r1', 'running', 50)] });
    expect(agentRows(s, NOW).map((r) => r.id)).toEqual(['r1', 'r2', 'p', 'x']);
  });
  it('summary, counts and stop-all availability', () => {
    const s = state({ agents: [agent('a', 'running'), agent('b', 'running'), agent('c', 'paused'), agent('d', 'exited')], pending: [approval('q')] });
    expect(agentsSummary(s)).toBe('2 agents running, 1 paused.');
    expect(agentsSummary(state())).toBe('No agent is running.');
    expect(agentsSummary(state({ agents: [agent('a', 'running')] }))).toBe('1 agent running.');
    expect(counts(s)).toEqual({ running: 2, waiting: 1 });
    expect(anyStoppable(s)).toBe(true);
    expect(anyStoppable(state({ agents: [agent('d', 'exited')] }))).toBe(false);
  });
});

describe('approvals', () => {
  it('shows the exact command and counts down', () => {
    const m = approvalModel(approval('q', { command: 'rm -rf build' }), NOW);
    expect(m).toMatchObject({ body: 'rm -rf build', bodyLabel: 'Command', left: '1:05 left', expired: false, high: false, hidden: false });
  });
  it('falls back to the action text for non-shell tools', () => {
    const m = approvalModel(approval('q', { tool: 'Edit', command: null, action: '{"file_path":"a.rs"}' }), NOW);
    expect(m).toMatchObject({ body: '{"file_path":"a.rs"}', bodyLabel: 'Action' });
  });
  it('marks high risk, expiry and hidden characters', () => {
    const m = approvalModel(approval('q', { risk: 'high', expires_at_ms: NOW - 1, command: 'cat \u202Etxt.sh' }), NOW);
    expect(m).toMatchObject({ high: true, riskLabel: 'High risk', expired: true, left: 'Expired', hidden: true, body: 'cat ⟪U+202E⟫txt.sh' });
    expect(approvalModel(approval('q', { cwd: '/a\u200Bb' }), NOW)).toMatchObject({ hidden: true, cwd: '/a⟪U+200B⟫b' });
  });
  it('shows an OpenClaw approval with its session and without approve-for-session', () => {
    const m = approvalModel(approval('q', { agent_name: 'OpenClaw', tool: 'exec', allow_session: false, session: 'agent:main:\u202Emain' }), NOW);
    expect(m).toMatchObject({ allowSession: false, session: 'agent:main:⟪U+202E⟫main' });
    expect(approvalModel(approval('q'), NOW)).toMatchObject({ allowSession: true, session: null });
  });
});

describe('daemon banner and tray icon', () => {
  it('says nothing while connected, why when not', () => {
    expect(daemonBanner(state())).toBeNull();
    expect(daemonBanner(state({ daemon: 'connecting' }))?.kind).toBe('connecting');
    const b = daemonBanner(state({ daemon: 'unavailable', daemon_error: 'no socket' }));
    expect(b?.kind).toBe('unavailable');
    expect(b?.text).toContain('Not connected to the Reins daemon: no socket.');
  });

  it('shows the audit log problem while connected, and nothing once it clears', () => {
    const b = daemonBanner(state({ audit_problem: 'the audit log cannot be written: No space left on device' }));
    expect(b?.kind).toBe('audit');
    expect(b?.text).toBe('The audit log cannot be written: No space left on device');
    expect(daemonBanner(state({ audit_problem: null }))).toBeNull();
  });

  it('picks the tray state', () => {
    expect(trayIcon(state({ daemon: 'unavailable', pending: [approval('q')] }))).toBe('disconnected');
    expect(trayIcon(state({ agents: [agent('a', 'running')], pending: [approval('q')] }))).toBe('waiting');
    expect(trayIcon(state({ agents: [agent('a', 'running'), agent('b', 'paused')] }))).toBe('running');
    expect(trayIcon(state({ agents: [agent('b', 'paused')] }))).toBe('paused');
    expect(trayIcon(state({ agents: [agent('x', 'exited')] }))).toBe('idle');
  });
});

describe('halt results', () => {
  it('says a success in the shell’s words', () => {
    const m = haltMessage({ op: 'stop', success: true, summary: 'Stopped: 12 processes gone', targets: [{ target: 'a', success: true, detail: 'stopped: 12 processes gone' }] });
    expect(m).toEqual({ ok: true, text: 'Stopped: 12 processes gone', details: [] });
  });
  it('says a failure clearly, with each failed target', () => {
    const m = haltMessage({
      op: 'stop', success: false, summary: '1 of 2 targets not verified',
      targets: [{ target: 'a', success: false, detail: 'still alive after SIGKILL' }, { target: 'b', success: true, detail: 'ok' }],
    });
    expect(m).toEqual({ ok: false, text: 'Stop failed: 1 of 2 targets not verified', details: ['a: still alive after SIGKILL'] });
    expect(haltMessage({ op: 'pause', success: false, summary: '', targets: [] }).text).toBe('Pause failed: Pause failed');
  });
});
