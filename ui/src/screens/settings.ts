// Settings: the phone link, broker, policy file (read-only), approval timeout,
// on-timeout (abstain or deny, never allow), stop grace, start at login. Save
// sends everything at once; the shell validates and saves all or nothing, so
// "Saved" appears only when it says so, and each refused field shows the
// shell's message next to it.

import { toUiError } from '../api';
import type { SettingsField } from '../bindings/SettingsField';
import type { SettingsView } from '../bindings/SettingsView';
import { h, setText, show } from '../../../web-common/dom';
import { reveal } from '../format';
import { fieldErrors, fromForm, ON_TIMEOUT, toForm, type FieldErrors } from '../settings-form';
import type { Ctx, Screen } from './types';

export function settingsScreen(ctx: Ctx): Screen {
  let base: SettingsView | null = null;
  const errEls = new Map<SettingsField, HTMLElement>();
  const inputs = new Map<SettingsField, HTMLElement>();

  /** A labelled control with help and, for the shell's fields, an error slot. */
  const field = (name: string, key: SettingsField | null, label: string, control: HTMLElement, help: string, inline = false) => {
    const id = `set-${name}`;
    control.id = id;
    const helpEl = h('p', { class: 'help', id: `${id}-help` }, help);
    let err: HTMLElement | null = null;
    if (key) {
      err = h('p', { class: 'field-error', id: `${id}-err`, 'data-testid': `error-${key}` });
      show(err, false);
      errEls.set(key, err);
      inputs.set(key, control);
    }
    control.setAttribute('aria-describedby', key ? `${id}-help ${id}-err` : `${id}-help`);
    const lab = h('label', { for: id }, label);
    return h(
      'div',
      { class: `field${inline ? ' field-inline' : ''}` },
      inline ? h('div', { class: 'check' }, control, lab) : lab,
      inline ? null : control,
      helpEl,
      err,
    );
  };

  const linkEnabled = h('input', { type: 'checkbox' });
  const broker = h('input', { type: 'text', class: 'input mono', autocomplete: 'off', spellcheck: 'false' });
  const policy = h('code', { class: 'path', id: 'set-policy', 'data-testid': 'policy-file' });
  const timeout = h('input', { type: 'number', class: 'input narrow', min: '1', max: '3600', step: '1', inputmode: 'numeric' });
  const onTimeout = h('select', { class: 'input' }, ...ON_TIMEOUT.map(([v, l]) => h('option', { value: v }, l)));
  const grace = h('input', { type: 'number', class: 'input narrow', min: '0', step: '100', inputmode: 'numeric' });
  const startAtLogin = h('input', { type: 'checkbox' });
  const general = h('div', { class: 'result bad', role: 'alert', 'data-testid': 'settings-error' });
  show(general, false);
  const saved = h('p', { class: 'result ok', role: 'status', 'aria-live': 'polite', 'data-testid': 'settings-saved' });
  show(saved, false);
  const save = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'save' }, 'Save');
  const revert = h('button', { type: 'button', class: 'btn' }, 'Discard changes');

  const form = h(
    'form',
    { class: 'settings', novalidate: true },
    general,
    h(
      'fieldset',
      {},
      h('legend', {}, 'Phone link'),
      field('link_enabled', null, 'Phone link on', linkEnabled, 'Let paired phones see, approve and stop your agents.', true),
      field('broker', 'broker', 'Broker', broker, '“embedded” (Reins runs its own), or an mqtt://, mqtts://, ws:// or wss:// URL.'),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Approvals'),
      h('div', { class: 'field' }, h('span', { class: 'label' }, 'Policy file'), policy, h('p', { class: 'help' }, 'Read-only here: to change the policy, edit this file.')),
      field('approval_timeout_secs', 'approval_timeout_secs', 'Time to answer (seconds)', timeout, 'How long a person has to answer a request: 1 to 3600.'),
      field('on_timeout', 'on_timeout', 'When nobody answers', onTimeout, 'Never approve: abstain lets the agent ask in its own terminal; deny refuses.'),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Stopping and startup'),
      field('stop_grace_ms', 'stop_grace_ms', 'Stop grace (milliseconds)', grace, 'Time between asking a process to end (SIGTERM) and forcing it (SIGKILL).'),
      field('start_at_login', 'start_at_login', 'Start Reins at login', startAtLogin, 'Start the tray when you log in.', true),
    ),
    saved,
    h('div', { class: 'actions' }, save, revert),
  );
  const showErrors = (errs: FieldErrors, message: string | null) => {
    for (const [key, el] of errEls) {
      const msgs = errs[key] ?? [];
      setText(el, msgs.join(' '));
      show(el, msgs.length > 0);
      const input = inputs.get(key);
      if (msgs.length) input?.setAttribute('aria-invalid', 'true');
      else input?.removeAttribute('aria-invalid');
    }
    const files = errs.files ?? [];
    const lines = [message, ...files].filter((x): x is string => !!x);
    general.replaceChildren(...lines.map((l) => h('p', {}, l)));
    show(general, lines.length > 0);
    const firstBad = [...errEls.keys()].find((k) => errs[k]?.length);
    if (firstBad) inputs.get(firstBad)?.focus();
    else if (lines.length) general.scrollIntoView({ block: 'nearest' });
  };

  const fill = (s: SettingsView) => {
    base = s;
    const f = toForm(s);
    linkEnabled.checked = f.link_enabled;
    broker.value = f.broker;
    setText(policy, reveal(s.policy_file).text);
    timeout.value = f.approval_timeout_secs;
    onTimeout.value = f.on_timeout;
    grace.value = f.stop_grace_ms;
    startAtLogin.checked = f.start_at_login;
  };

  const load = async () => {
    showErrors({}, null);
    show(saved, false);
    try {
      fill(await ctx.api.settings());
      save.disabled = false;
    } catch (e) {
      save.disabled = true;
      showErrors({}, `Could not read the settings: ${toUiError(e).message}`);
    }
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!base) return;
    show(saved, false);
    const r = fromForm(
      {
        link_enabled: linkEnabled.checked,
        broker: broker.value,
        approval_timeout_secs: timeout.value,
        on_timeout: onTimeout.value,
        stop_grace_ms: grace.value,
        start_at_login: startAtLogin.checked,
      },
      base,
    );
    if ('errors' in r) {
      showErrors(r.errors, 'Nothing was saved: fix the fields marked below.');
      return;
    }
    save.disabled = true;
    void ctx.api
      .saveSettings(r.settings)
      .then(() => {
        showErrors({}, null);
        base = r.settings;
        setText(saved, 'Saved.');
        show(saved, true);
      })
      .catch((err) => {
        const u = toUiError(err);
        showErrors(fieldErrors(u), `Nothing was saved: ${u.message}`);
      })
      .finally(() => {
        save.disabled = false;
      });
  });
  form.addEventListener('input', () => show(saved, false));
  revert.addEventListener('click', () => void load());

  const el = h(
    'section',
    { class: 'screen', 'aria-labelledby': 'h-settings' },
    h('header', { class: 'screen-head' }, h('div', {}, h('h2', { id: 'h-settings' }, 'Settings'), h('p', { class: 'muted' }, 'Saved all at once, or not at all.'))),
    form,
  );
  return { el, update() {}, enter: () => void load() };
}
