// The machines section: one card per paired computer with its link state,
// its agents (Pause/Resume/Stop each), Stop all (hold 1 s), brokers and Unpair;
// plus Stop all everywhere (hold 1 s) and how to pair another computer.
// Not the pairing flow itself (pairing.ts).

import type { AgentSummary, App, AppState, MachineView } from '../app/types';
import { h, setText, show, keyedList, type Keyed } from '../../../web-common/dom';
import { holdButton } from './hold';
import { duration, linkText } from './format';
import { agentName } from './labels';

type Send = (p: Promise<void>) => void;

export function machinesSection(app: App, send: Send) {
  const heading = h('h2', { id: 'machines-h' }, 'Agents');
  const everywhere = holdButton({
    label: 'Stop all everywhere', ariaLabel: 'Stop all agents on every computer (press and hold)',
    hint: 'Hold to stop everything', ms: 1000, className: 'danger wide', testid: 'stop-all-everywhere',
    onConfirm: () => send(app.stopEverywhere()),
  });
  const list = h('div', { class: 'cards' });
  const howto = h('p', { class: 'hint' },
    'To add a computer, run ', h('code', {}, 'reins pair'), ' on it and scan the code with this phone’s camera.');
  const el = h('section', { class: 'section', id: 'machines', 'aria-labelledby': 'machines-h' },
    heading, everywhere.el, list, howto);
  const cache = new Map<string, MachineCard>();
  function update(s: AppState) {
    show(everywhere.el, s.machines.length > 0);
    keyedList(list, cache, s.machines, (m) => m.id, (m) => machineCard(app, m, send));
  }
  function tick(now: number) {
    for (const c of cache.values()) c.tick(now);
  }
  return { el, update, tick };
}

interface MachineCard extends Keyed<MachineView> {
  tick(now: number): void;
}

function machineCard(app: App, first: MachineView, send: Send): MachineCard {
  let cur = first;
  const name = h('h3', { class: 'card-title' });
  const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
  const linkLabel = h('span', {});
  const link = h('p', { class: 'link', 'data-testid': 'machine-link', role: 'status' }, dot, linkLabel);
  const agents = h('ul', { class: 'agents', 'aria-label': `Agents on ${first.name}` });
  const noAgents = h('p', { class: 'empty' }, 'No agents running.');
  const stopAll = holdButton({
    label: 'Stop all', ariaLabel: '', hint: 'Hold to stop all', ms: 1000,
    className: 'danger', testid: 'stop-all-machine',
    onConfirm: () => send(app.command(cur.id, 'stop', 'all')),
  });
  const brokers = h('p', { class: 'brokers' });
  const unpair = h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'machine-unpair' }, 'Unpair');
  unpair.addEventListener('click', () => {
    if (window.confirm(`Unpair ${cur.name}? This phone forgets its keys; to use it again, pair again.`)) {
      send(app.unpair(cur.id));
    }
  });
  const cache = new Map<string, AgentRow>();
  const el = h('article', { class: 'card machine', 'data-testid': 'machine' },
    h('div', { class: 'machine-head' }, name, link),
    noAgents, agents,
    h('div', { class: 'actions' }, stopAll.el),
    h('div', { class: 'machine-foot' }, brokers, unpair));

  return {
    el,
    update(m) {
      cur = m;
      el.setAttribute('data-machine-id', m.id);
      el.setAttribute('data-machine-name', m.name);
      setText(name, m.name);
      link.setAttribute('data-state', m.link.kind);
      dot.className = `dot dot-${m.link.kind}`;
      agents.setAttribute('aria-label', `Agents on ${m.name}`);
      const live = m.agents.filter((a) => a.state !== 'exited');
      show(noAgents, m.agents.length === 0);
      show(stopAll.el, live.length > 0);
      stopAll.setAriaLabel(`Stop all agents on ${m.name} (press and hold)`);
      setText(brokers, `${m.brokers.length > 1 ? 'Brokers' : 'Broker'}: ${m.brokers.join(', ') || '(none)'}`);
      unpair.setAttribute('aria-label', `Unpair ${m.name}`);
      keyedList(agents, cache, m.agents, (a) => a.id, (a) => agentRow(app, m.id, a, send));
      this.tick(Date.now());
    },
    tick(now) {
      setText(linkLabel, linkText(cur.link, now));
      for (const r of cache.values()) r.tick(now);
    },
  };
}

interface AgentRow extends Keyed<AgentSummary> {
  tick(now: number): void;
}

function agentRow(app: App, machineId: string, first: AgentSummary, send: Send): AgentRow {
  let cur = first;
  const title = h('span', { class: 'agent-name' });
  const badge = h('span', { class: 'state' });
  const details = h('span', { class: 'agent-details' });
  const pause = h('button', { type: 'button', class: 'btn secondary', 'data-testid': 'agent-pause' }, 'Pause');
  const resume = h('button', { type: 'button', class: 'btn secondary', 'data-testid': 'agent-resume' }, 'Resume');
  const stop = h('button', { type: 'button', class: 'btn danger', 'data-testid': 'agent-stop' }, 'Stop');
  pause.addEventListener('click', () => send(app.command(machineId, 'pause', cur.id)));
  resume.addEventListener('click', () => send(app.command(machineId, 'resume', cur.id)));
  stop.addEventListener('click', () => send(app.command(machineId, 'stop', cur.id)));
  const el = h('li', { class: 'agent', 'data-testid': 'agent' },
    h('div', { class: 'agent-top' }, title, badge),
    details,
    h('div', { class: 'actions' }, pause, resume, stop));
  return {
    el,
    update(a) {
      cur = a;
      const n = agentName(a);
      el.setAttribute('data-agent-id', a.id);
      el.setAttribute('data-state', a.state);
      setText(title, n);
      setText(badge, a.state);
      badge.className = `state state-${a.state}`;
      show(pause, a.state === 'running');
      show(resume, a.state === 'paused');
      show(stop, a.state !== 'exited');
      stop.disabled = a.state === 'stopping';
      setText(stop, a.state === 'stopping' ? 'Stopping…' : 'Stop');
      pause.setAttribute('aria-label', `Pause ${n}`);
      resume.setAttribute('aria-label', `Resume ${n}`);
      stop.setAttribute('aria-label', `Stop ${n}`);
      this.tick(Date.now());
    },
    tick(now) {
      const up = duration(now - cur.started_at * 1000);
      const procs = cur.descendants + 1;
      setText(details, `up ${up} · CPU ${cur.cpu_percent.toFixed(0)}% · ${procs} process${procs === 1 ? '' : 'es'} · pid ${cur.pid}`);
    },
  };
}
