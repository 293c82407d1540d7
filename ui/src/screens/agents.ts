// Agents: alert banners first (alerts.ts), then the live list with
// Pause/Resume/Stop per agent and "Stop all agents" (a 1 s hold). Each halt's verified result is shown when it returns, in words
// from the shell ("stopped: 12 processes gone"), failures said plainly.
// A running OpenClaw agent also offers "Stop this run" (a secondary button
// under the row: OpenClaw aborts its runs, the gateway stays up), whose
// result is shown in that row; the red Stop stays the hard stop.

import type { HaltOpView } from '../bindings/HaltOpView';
import type { HaltResultView } from '../bindings/HaltResultView';
import { h, keyedList, setText, show, type Keyed } from '../../../web-common/dom';
import { holdButton } from '../hold';
import { agentRows, agentsSummary, anyStoppable, haltMessage, softStopMessage, type AgentRow, type HaltMessage } from '../model';
import type { Ctx, Screen } from './types';

export interface AgentsScreen extends Screen {
  /** Show a halt's result (one from the tray menu). */
  showResult(r: HaltResultView): void;
}
import { toUiError } from '../api';
import { alertBanners } from './alerts';

const OP_LABEL: Record<HaltOpView, string> = { pause: 'Pause', resume: 'Resume', stop: 'Stop' };
const OP_DOING: Record<HaltOpView, string> = { pause: 'Pausing', resume: 'Resuming', stop: 'Stopping' };

export function agentsScreen(ctx: Ctx): AgentsScreen {
  const summary = h('p', { class: 'muted', 'data-testid': 'agents-summary' });
  const result = h('div', { class: 'result', role: 'status', 'aria-live': 'polite', 'data-testid': 'halt-result' });
  const resultText = h('p', { class: 'result-text' });
  const resultDetails = h('ul', { class: 'result-details' });
  result.append(resultText, resultDetails);
  show(result, false);
  const list = h('ul', { class: 'rows agents', 'aria-label': 'Agents' });
  const empty = h('p', { class: 'empty' }, 'No agents detected. Start Claude Code, Codex or another supported agent and it appears here.');
  const cache = new Map<string, Keyed<AgentRow>>();

  const inFlight = new Set<string>();
  /** The last soft stop's result per agent (kept across redraws). */
  const softResults = new Map<string, HaltMessage | 'pending'>();

  const softStop = async (target: string) => {
    inFlight.add(target);
    softResults.set(target, 'pending');
    refresh();
    try {
      softResults.set(target, softStopMessage(await ctx.api.softStop(target)));
    } catch (e) {
      softResults.set(target, { ok: false, text: `Stop this run failed: ${toUiError(e).message}`, details: [] });
    } finally {
      inFlight.delete(target);
      refresh();
    }
  };

  const report = (r: { ok: boolean; text: string; details: string[] }) => {
    result.classList.toggle('bad', !r.ok);
    result.classList.toggle('ok', r.ok);
    setText(resultText, r.text);
    resultDetails.replaceChildren(...r.details.map((d) => h('li', {}, d)));
    show(result, true);
  };

  const run = async (op: HaltOpView, target: string, label: string) => {
    inFlight.add(target);
    refresh();
    result.classList.remove('ok', 'bad');
    setText(resultText, `${OP_DOING[op]} ${label}…`);
    resultDetails.replaceChildren();
    show(result, true);
    try {
      report(haltMessage(await ctx.api.halt(op, target)));
    } catch (e) {
      report({ ok: false, text: `${OP_LABEL[op]} failed: ${toUiError(e).message}`, details: [] });
    } finally {
      inFlight.delete(target);
      refresh();
    }
  };

  const alerts = alertBanners(ctx, async (label, act) => {
    result.classList.remove('ok', 'bad');
    setText(resultText, `${label}…`);
    resultDetails.replaceChildren();
    show(result, true);
    try {
      report(haltMessage(await act()));
    } catch (e) {
      report({ ok: false, text: `${label} failed: ${toUiError(e).message}`, details: [] });
    }
  });

  const stopAll = holdButton({
    label: 'Stop all agents',
    hint: 'Hold to stop every agent',
    ms: 1000,
    className: 'danger',
    testid: 'stop-all',
    onConfirm: () => void run('stop', 'all', 'every agent'),
  });

  const createRow = (first: AgentRow): Keyed<AgentRow> => {
    const name = h('span', { class: 'name' });
    const project = h('span', { class: 'project' });
    const state = h('span', { class: 'pill' });
    const cwd = h('code', { class: 'path' });
    const stat = (label: string) => {
      const dd = h('dd', {});
      return { dd, el: [h('dt', {}, label), dd] };
    };
    const pid = stat('PID');
    const up = stat('Uptime');
    const cpu = stat('CPU');
    const mem = stat('Memory');
    const procs = stat('Processes');
    const buttons = h('div', { class: 'actions' });
    const btns = new Map<HaltOpView, HTMLButtonElement>();
    for (const op of ['pause', 'resume', 'stop'] as const) {
      const b = h('button', { type: 'button', class: op === 'stop' ? 'btn danger' : 'btn', 'data-testid': `agent-${op}` }, OP_LABEL[op]);
      b.addEventListener('click', () => void run(op, row.id, row.name));
      btns.set(op, b);
      buttons.append(b);
    }
    const soft = h('button', { type: 'button', class: 'btn', 'data-testid': 'agent-soft-stop' }, 'Stop this run');
    soft.addEventListener('click', () => void softStop(row.id));
    const softLine = h(
      'div',
      { class: 'soft-stop' },
      soft,
      h('span', { class: 'soft-hint muted' }, 'keeps the gateway up; asks OpenClaw, does not force it'),
    );
    const softResult = h('div', { class: 'result soft-result', role: 'status', 'aria-live': 'polite', 'data-testid': 'soft-result' });
    const softText = h('p', { class: 'result-text' });
    const softDetails = h('ul', { class: 'result-details' });
    softResult.append(softText, softDetails);
    show(softResult, false);
    let shownSoft: HaltMessage | 'pending' | undefined;
    let row = first;
    const el = h(
      'li',
      { class: 'row agent', 'data-agent-id': first.id },
      h('div', { class: 'row-head' }, h('h3', {}, name, project), state),
      cwd,
      h('dl', { class: 'stats' }, ...pid.el, ...up.el, ...cpu.el, ...mem.el, ...procs.el),
      buttons,
      softLine,
      softResult,
    );
    return {
      el,
      update(r) {
        row = r;
        setText(name, r.name);
        setText(project, r.project === '—' ? '' : ` · ${r.project}`);
        setText(state, r.stateLabel);
        state.className = `pill state-${r.state}`;
        setText(cwd, r.cwd ?? '');
        show(cwd, r.cwd !== null);
        setText(pid.dd, r.pid);
        setText(up.dd, r.uptime);
        setText(cpu.dd, r.cpu);
        setText(mem.dd, r.memory);
        setText(procs.dd, r.processes);
        const pending = inFlight.has(r.id) || inFlight.has('all');
        for (const [op, b] of btns) {
          show(b, r.ops.includes(op));
          b.disabled = pending;
          b.setAttribute('aria-label', `${OP_LABEL[op]} ${r.name}${r.project === '—' ? '' : ` in ${r.project}`}`);
        }
        show(softLine, r.softStop);
        soft.disabled = pending;
        soft.setAttribute('aria-label', `Stop the current run of ${r.name}, keeping its gateway up`);
        const got = softResults.get(r.id);
        if (got !== shownSoft) {
          shownSoft = got;
          const done = got !== undefined && got !== 'pending' ? got : null;
          show(softResult, got !== undefined);
          softResult.classList.toggle('ok', done?.ok === true);
          softResult.classList.toggle('bad', done?.ok === false);
          setText(softText, got === 'pending' ? 'Asking OpenClaw to stop the run…' : (done?.text ?? ''));
          softDetails.replaceChildren(...(done?.details ?? []).map((d) => h('li', {}, d)));
        }
      },
    };
  };

  const refresh = () => {
    const s = ctx.state();
    const now = ctx.now();
    alerts.update();
    setText(summary, agentsSummary(s));
    const rows = agentRows(s, now);
    keyedList(list, cache, rows, (r) => r.id, createRow);
    show(empty, rows.length === 0);

    stopAll.setDisabled(inFlight.size > 0 || !anyStoppable(s));
  };

  const el = h(
    'section',
    { class: 'screen', 'aria-labelledby': 'h-agents' },
    h('header', { class: 'screen-head' }, h('div', {}, h('h2', { id: 'h-agents' }, 'Agents'), summary), stopAll.el),
    alerts.el,
    result,
    list,
    empty,
  );
  return { el, update: refresh, showResult: (r) => report(haltMessage(r)) };
}
