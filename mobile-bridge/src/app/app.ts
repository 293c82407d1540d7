// The app core behind the UI: createApp() loads every paired machine from
// IndexedDB, opens one link per machine, turns received messages into an
// immutable AppState (a new object per change), and sends commands and
// decisions. A decision is sent only for a request pending in the list.
// Not here: rendering, notifications, service worker (src/ui, src/main.ts).

import type { AlertView, App, AppState, ApprovalView, CommandOp, PairingState, Toast } from './types.js';
import { b64uEncode, hex, hexEncode } from '../proto/bytes.js';
import { PairChannel } from '../proto/channel.js';
import { pairedChannelKeys } from '../proto/keys.js';
import { PairedDesktop, tokenHash } from '../proto/pairing.js';
import { Payload, Target } from '../proto/payload.js';
import { ReplayWindow } from '../proto/replay.js';
import { OfferError, parsePairingUrl } from '../proto/url.js';
import { MachineRecord, MachineStore } from '../store/db.js';
import { SeqReservoir } from '../link/seq.js';
import { MachineLink } from '../link/machine-link.js';
import { ALREADY_USED, PairingLink } from '../link/pairing-link.js';
import { Connect, mqttConnect } from '../link/transport.js';
import * as R from './reduce.js';
import { ackInWords, recheckInWords, targetInWords } from './words.js';

export interface AppOptions {
  /** Storage; default: IndexedDB database "reins". */
  store?: MachineStore;
  /** Broker connections; default: MQTT.js over ws/wss. */
  connect?: Connect;
  /** Clock in Unix ms; default Date.now. */
  now?: () => number;
  /** Name the desktop shows for this phone while pairing; default guessed from the user agent. */
  deviceName?: string;
  /** Default: globalThis.isSecureContext. */
  secureContext?: boolean;
  /** Diagnostics (never message contents); default console.warn. */
  log?: (msg: string) => void;
}

const MAX_TOASTS = 5;
const COMMAND_MEMORY_MS = 120_000;

function guessDeviceName(): string {
  const ua = globalThis.navigator?.userAgent ?? '';
  if (/iPhone/.test(ua)) return 'iPhone';
  if (/iPad/.test(ua)) return 'iPad';
  if (/Android/.test(ua)) return 'Android phone';
  return 'Phone';
}

/** A full pairing URL, or just its fragment ("#v=1&…" or "v=1&…"). */
export function normalizePairingInput(input: string): string {
  const s = input.trim();
  return s.includes('#') ? s : `#${s}`;
}

export async function createApp(opts: AppOptions = {}): Promise<App> {
  const store = opts.store ?? (await MachineStore.open());
  const connect = opts.connect ?? mqttConnect;
  const now = opts.now ?? (() => Date.now());
  const log = opts.log ?? ((m: string) => console.warn(`reins: ${m}`));
  let state: AppState = {
    machines: [], approvals: [], alerts: [], resolved: [], pairing: { kind: 'idle' }, toasts: [],
    secureContext: opts.secureContext ?? globalThis.isSecureContext === true,
  };
  const listeners = new Set<(s: AppState) => void>();
  const approvalListeners = new Set<(a: ApprovalView) => void>();
  const alertListeners = new Set<(a: AlertView) => void>();
  const links = new Map<string, MachineLink>();
  const sweeps = new Map<string, { ids: Set<string>; snapshot: boolean }>();
  const commands = new Map<string, { machineId: string; label: string; atMs: number }>();
  const notified = new Set<string>();
  let pairing: PairingLink | null = null;
  let toastId = 0;
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;

  function set(next: AppState): void {
    if (next === state) return;
    state = next;
    armExpiry();
    for (const l of listeners) l(state);
  }
  function toast(level: Toast['level'], text: string): void {
    set({ ...state, toasts: [...state.toasts, { id: ++toastId, level, text, atMs: now() }].slice(-MAX_TOASTS) });
  }
  function armExpiry(): void {
    clearTimeout(expiryTimer);
    if (state.approvals.length === 0) return;
    const next = Math.min(...state.approvals.map((a) => a.expiresAtMs));
    expiryTimer = setTimeout(() => set(R.expireApprovals(state, now())), Math.max(0, next - now()) + 1);
  }
  const machineName = (id: string) => state.machines.find((m) => m.id === id)?.name ?? 'the desktop';

  function onMessage(id: string, p: Payload): void {
    const sweep = sweeps.get(id);
    switch (p.kind) {
      case 'agent_snapshot':
        if (sweep) sweep.snapshot = true;
        return set(R.applySnapshot(state, id, p.body.agents));
      case 'agent_event':
        return set(R.applyAgentEvent(state, id, p.body));
      case 'approval_request': {
        const [next, verdict, view] = R.applyRequest(state, id, p.body, now());
        if (verdict === 'bad_hash') return log('dropped an approval request: action_hash does not match its action');
        sweep?.ids.delete(p.body.request_id);
        set(next);
        const key = `${id}/${p.body.request_id}`;
        if (view && !notified.has(key)) {
          notified.add(key);
          for (const l of approvalListeners) l(view);
        }
        return;
      }
      case 'approval_resolved':
        return set(R.applyResolved(state, id, p.body, now()));
      case 'alert': {
        const known = state.alerts.some((a) => a.machineId === id && a.alertId === p.body.alert_id);
        set(R.applyAlert(state, id, p.body));
        const view = state.alerts.find((a) => a.machineId === id && a.alertId === p.body.alert_id);
        if (view && !known) for (const l of alertListeners) l(view);
        return;
      }
      case 'alert_cleared':
        return set(R.applyAlertCleared(state, id, p.body.alert_id));
      case 'stop_rechecked': {
        const t = recheckInWords(p.body);
        return toast(t.level, t.text);
      }
      case 'heartbeat':
        if (sweep?.snapshot) {
          sweeps.delete(id);
          set(R.sweepApprovals(state, id, sweep.ids));
        }
        return;
      case 'command_ack': {
        const sent = commands.get(p.body.command_msg_id);
        const m = state.machines.find((x) => x.id === id);
        const label = sent?.label ?? targetInWords(p.body.target, m?.agents ?? [], machineName(id));
        commands.delete(p.body.command_msg_id);
        const t = ackInWords(p.body, label);
        return toast(t.level, t.text);
      }
      default:
        return; // presence is advisory; pairing kinds never reach a paired channel
    }
  }

  function openLink(rec: MachineRecord): void {
    const id = rec.id;
    const seqs = new SeqReservoir((n) => store.reserveSeqs(id, n));
    void seqs.prime().catch((e) => log(`${id.slice(0, 8)}: cannot reserve seqs: ${(e as Error).message}`));
    const link = new MachineLink({
      brokers: rec.brokers,
      channel: PairChannel.paired('phone', hex(rec.pairKey), rec.topicPrefix),
      window: ReplayWindow.fromJSON(rec.d2pWindow),
      connect,
      reserveSeq: () => seqs.take(),
      saveWindow: (w) => store.saveWindow(id, w),
      now,
      log: (m) => log(`${id.slice(0, 8)}: ${m}`),
      onState: (link) => set(R.updateMachine(state, id, (m) => ({ ...m, link }))),
      onSubscribed: (fresh) => {
        if (fresh) {
          sweeps.delete(id);
          set(R.clearForResync(state, id));
        } else {
          const ids = new Set(state.approvals.filter((a) => a.machineId === id).map((a) => a.requestId));
          sweeps.set(id, { ids, snapshot: false });
        }
      },
      onMessage: (inc) => onMessage(id, inc.payload),
    });
    links.set(id, link);
    set({
      ...state,
      machines: [
        ...state.machines.filter((m) => m.id !== id),
        { id, name: rec.name, brokers: rec.brokers, link: { kind: 'connecting' }, agents: [], synced: false },
      ],
    });
    link.start();
  }

  async function send(machineId: string, p: Payload): Promise<string> {
    const link = links.get(machineId);
    if (!link) throw new Error('this machine is not paired');
    if (!link.connected) throw new Error(`${machineName(machineId)} is not connected`);
    return b64uEncode(await link.send(p));
  }

  async function decide(machineId: string, requestId: string, decision: 'allow' | 'deny', scope: 'once' | 'session' | null) {
    const a = state.approvals.find((x) => x.machineId === machineId && x.requestId === requestId);
    if (!a || a.expiresAtMs <= now()) {
      set(R.expireApprovals(state, now()));
      throw new Error('this request is no longer pending');
    }
    if (scope === 'session' && !a.allowSession) throw new Error('this request cannot be allowed for the whole session');
    await send(machineId, {
      kind: 'approval_decision',
      body: { request_id: a.requestId, action_hash: a.actionHash, decision, scope },
    });
  }

  async function command(machineId: string, op: CommandOp, target: string): Promise<void> {
    const m = state.machines.find((x) => x.id === machineId);
    const t: Target = target === 'all' ? 'all' : { agent: target };
    const label = targetInWords(t, m?.agents ?? [], machineName(machineId));
    for (const [k, v] of commands) if (now() - v.atMs > COMMAND_MEMORY_MS) commands.delete(k);
    try {
      const msgId = await send(machineId, { kind: 'command', body: { op, target: t } });
      commands.set(msgId, { machineId, label, atMs: now() });
    } catch (e) {
      toast('error', `${label}: ${op} not sent — ${(e as Error).message}`);
      throw e;
    }
  }

  function setPairing(p: PairingState): void {
    set({ ...state, pairing: p });
  }

  async function paired(d: PairedDesktop): Promise<void> {
    const id = hexEncode(pairedChannelKeys(d.k).pairingId);
    const rec: MachineRecord = {
      id, name: d.desktopName, brokers: d.brokers, topicPrefix: d.topicPrefix, pairKey: hexEncode(d.k),
      desktopPublic: hexEncode(d.desktopPublic), outSeq: 0, d2pWindow: d.d2pWindow.toJSON(), pairedAtMs: now(),
    };
    await store.put(rec);
    openLink(rec);
    setPairing({ kind: 'paired', machineId: id, name: d.desktopName });
  }

  for (const rec of await store.list()) openLink(rec);

  return {
    state: () => state,
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onNewApproval(l) {
      approvalListeners.add(l);
      return () => approvalListeners.delete(l);
    },
    onNewAlert(l) {
      alertListeners.add(l);
      return () => alertListeners.delete(l);
    },
    async pair(input: string) {
      pairing?.cancel();
      let offer;
      try {
        offer = parsePairingUrl(normalizePairingInput(input));
      } catch (e) {
        const v = e instanceof OfferError && e.code === 'unsupported_version';
        return setPairing({
          kind: 'failed', reason: 'bad_link',
          message: v ? 'This pairing link needs a newer version of this app.' : 'This is not a valid Reins pairing link.',
        });
      }
      // A link this phone used before (paired with, or said hello on) is
      // spent: say so at once, without touching the network.
      const used = tokenHash(offer.token);
      const seen = await store.tokenUsed(used).catch((e: Error) => {
        log(`could not read the used pairing links: ${e.message}`);
        return false;
      });
      if (seen) {
        return setPairing({ kind: 'failed', reason: 'already_used', message: ALREADY_USED });
      }
      const pl: PairingLink = new PairingLink({
        offer, deviceName: opts.deviceName ?? guessDeviceName(), connect, now, log,
        // The hello is out: from now on the desktop treats this token as spent.
        onWaiting: () => {
          store.markTokenUsed(used, now()).catch((e: Error) => log(`could not remember a used pairing link: ${e.message}`));
        },
        onDone: (o) => {
          if (pairing === pl) pairing = null;
          if (o.ok) {
            return void paired(o.desktop).catch((e: Error) =>
              setPairing({ kind: 'failed', reason: 'bad_link', message: `Paired, but could not save it: ${e.message}` }),
            );
          }
          if (o.reason === 'cancelled') return setPairing({ kind: 'idle' });
          setPairing({ kind: 'failed', reason: o.reason, message: o.message });
        },
      });
      pairing = pl;
      pl.start();
      if (pairing === pl) {
        setPairing({ kind: 'waiting', desktopHint: '', code: pl.code ?? '', expiresAtMs: offer.expiresAtMs });
      }
    },
    cancelPairing() {
      pairing?.cancel();
      pairing = null;
      setPairing({ kind: 'idle' });
    },
    async unpair(machineId) {
      links.get(machineId)?.stop();
      links.delete(machineId);
      sweeps.delete(machineId);
      await store.delete(machineId);
      set({
        ...state,
        machines: state.machines.filter((m) => m.id !== machineId),
        approvals: state.approvals.filter((a) => a.machineId !== machineId),
        alerts: state.alerts.filter((a) => a.machineId !== machineId),
        resolved: state.resolved.filter((r) => r.machineId !== machineId),
      });
    },
    approve: (m, r, scope) => decide(m, r, 'allow', scope),
    deny: (m, r) => decide(m, r, 'deny', null),
    command,
    async stopEverywhere() {
      const results = await Promise.allSettled(state.machines.map((m) => command(m.id, 'stop', 'all')));
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed) throw new Error(`stop not sent to ${failed} of ${results.length} machines`);
    },
    wake() {
      set(R.expireApprovals(state, now()));
      for (const l of links.values()) l.wake();
    },
    dismissToast(id) {
      set({ ...state, toasts: state.toasts.filter((t) => t.id !== id) });
    },
  };
}
