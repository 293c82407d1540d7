// Audit log: a filter (text, action), newest first, and "Verify chain", which
// reports OK with the record count or the first broken line.

import { toUiError } from '../api';
import type { AuditRow } from '../bindings/AuditRow';
import { h, keyedList, setText, show, type Keyed } from '../../../web-common/dom';
import { actionLabel, actionOptions, AUDIT_LIMIT, buildFilter, newestFirst } from '../audit-filter';
import { plural, reveal, timestamp } from '../format';
import type { Ctx, Screen } from './types';

export function auditScreen(ctx: Ctx): Screen {
  const text = h('input', { type: 'search', class: 'input', id: 'audit-text', placeholder: 'actor, target, outcome…', autocomplete: 'off', spellcheck: 'false', maxlength: '200' });
  const action = h('select', { class: 'input', id: 'audit-action' });
  const verify = h('button', { type: 'button', class: 'btn', 'data-testid': 'verify' }, 'Verify chain');
  const form = h(
    'form',
    { class: 'filters', role: 'search' },
    h('label', { for: 'audit-text' }, 'Search'),
    text,
    h('label', { for: 'audit-action' }, 'Action'),
    action,
    verify,
  );
  const verdict = h('p', { class: 'result', role: 'status', 'aria-live': 'polite', 'data-testid': 'verify-result' });
  show(verdict, false);
  const count = h('p', { class: 'muted', role: 'status' });
  const list = h('ol', { class: 'audit-rows', 'aria-label': 'Audit records, newest first' });
  const empty = h('p', { class: 'empty' }, 'No records match.');
  show(empty, false);
  const cache = new Map<string, Keyed<AuditRow>>();
  const seenActions = new Set<string>();
  let query = 0;
  let debounce = 0;

  const fillActions = () => {
    const keep = action.value;
    const opts = actionOptions(seenActions);
    if (action.options.length === opts.length + 1) return;
    action.replaceChildren(h('option', { value: '' }, 'All actions'), ...opts.map(([v, label]) => h('option', { value: v }, label)));
    action.value = keep;
  };
  fillActions();

  const load = async () => {
    const q = ++query;
    try {
      const rows = newestFirst(await ctx.api.audit(buildFilter(text.value, action.value)));
      if (q !== query) return;
      for (const r of rows) seenActions.add(r.action);
      fillActions();
      keyedList(list, cache, rows, (r) => String(r.seq), createRow);
      show(empty, rows.length === 0);
      setText(count, rows.length >= AUDIT_LIMIT ? `The newest ${AUDIT_LIMIT} records; narrow the search to see older ones.` : plural(rows.length, 'record', 'records'));
      count.classList.remove('bad');
    } catch (e) {
      if (q !== query) return;
      setText(count, `Could not read the audit log: ${toUiError(e).message}`);
      count.classList.add('bad');
    }
  };

  const createRow = (first: AuditRow): Keyed<AuditRow> => {
    const when = h('time', {});
    const actor = h('span', { class: 'actor' });
    const act = h('span', { class: 'pill' });
    const outcome = h('span', { class: 'outcome' });
    const target = h('code', { class: 'path' });
    const detail = h('code', { class: 'detail' });
    const seq = h('span', { class: 'seq' });
    const el = h('li', { class: 'audit-row', 'data-seq': first.seq }, h('div', { class: 'audit-head' }, seq, when, act, actor, outcome), target, detail);
    return {
      el,
      update(r) {
        setText(seq, `#${r.seq}`);
        setText(when, timestamp(r.ts_ms));
        when.setAttribute('datetime', new Date(r.ts_ms).toISOString());
        setText(act, actionLabel(r.action));
        act.title = r.action;
        setText(actor, r.actor);
        setText(outcome, r.outcome);
        outcome.className = `outcome ${r.outcome === 'ok' ? 'ok' : r.outcome === 'failed' || r.outcome === 'error' ? 'bad' : ''}`;
        setText(target, reveal(r.target).text);
        setText(detail, reveal(r.detail).text);
        show(detail, r.detail !== '');
      },
    };
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  text.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = window.setTimeout(() => void load(), 250);
  });
  action.addEventListener('change', () => void load());
  verify.addEventListener('click', () => {
    verify.disabled = true;
    verdict.className = 'result';
    setText(verdict, 'Verifying…');
    show(verdict, true);
    void ctx.api
      .auditVerify()
      .then((v) => {
        verdict.classList.add(v.ok ? 'ok' : 'bad');
        const n = plural(v.records, 'record', 'records');
        setText(
          verdict,
          v.ok
            ? `Chain OK: ${n} checked, each chained to the one before.`
            : `Chain broken at line ${v.first_broken_line ?? '?'} (${n} checked): ${v.message}`,
        );
      })
      .catch((e) => {
        verdict.classList.add('bad');
        setText(verdict, `Could not verify: ${toUiError(e).message}`);
      })
      .finally(() => {
        verify.disabled = false;
      });
  });

  const el = h(
    'section',
    { class: 'screen', 'aria-labelledby': 'h-audit' },
    h('header', { class: 'screen-head' }, h('div', {}, h('h2', { id: 'h-audit' }, 'Audit log'), h('p', { class: 'muted' }, 'Every stop, pause, approval and pairing, newest first.'))),
    form,
    verdict,
    count,
    list,
    empty,
  );
  return { el, update() {}, enter: () => void load() };
}
