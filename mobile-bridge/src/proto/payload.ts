// Message bodies (protocol §7): a typed shape per kind, strict validation of
// received bodies (unknown fields ignored, optional fields may be null or
// missing), and encoders that emit keys in the Rust side's field order.
// Not here: whether a decision names a pending request (the app decides).

import { sha256 } from '@noble/hashes/sha2.js';
import { hexEncode, utf8 } from './bytes.js';
import type { Kind } from './envelope.js';
import { JsonObject, JsonValue, float, isObject, parseStrictJson, uint } from './json.js';
import type { AgentSummary, AgentStatus, Risk } from '../app/types.js';

export type Target = 'all' | { agent: string };
export type CommandOp = 'stop' | 'pause' | 'resume' | 'release' | 'stop_supervisor';
export type AckOutcome = 'done' | 'partial' | 'failed' | 'no_such_agent' | 'refused';
export type Resolution = 'allowed' | 'denied' | 'expired' | 'abstained';

export interface ApprovalRequest {
  request_id: string; agent_id: string; session_id: string | null; tool: string; action: string;
  action_hash: string; cwd: string | null; expires_at_ms: number;
  risk: Risk | null; reason: string | null; allow_session: boolean | null;
}
export interface ApprovalResolved {
  request_id: string; action_hash: string; resolution: Resolution; by: string | null; by_name: string | null;
}
export interface ApprovalDecision {
  request_id: string; action_hash: string; decision: 'allow' | 'deny'; scope: 'once' | 'session' | null;
}
export interface Command { op: CommandOp; target: Target }
export interface CommandAck {
  command_msg_id: string; op: CommandOp; target: Target; outcome: AckOutcome; processes: number;
  frozen_after_us: number | null; gone_after_us: number | null; detail: string | null;
}
export type AgentEvent = { event: 'appeared' | 'changed'; agent: AgentSummary } | { event: 'exited'; id: string };

/** Why an alert was raised; a kind this app does not know is `other` (its message still shows). */
export type AlertReason =
  | { kind: 'stop_word'; word: string }
  | { kind: 'tripwire'; rule: string; count: number; window_s: number }
  | { kind: 'respawn_held'; stopped: string; supervisor: string }
  | { kind: 'audit_failing'; lost: number; since_ms: number; error: string }
  | { kind: 'other' };
export type AlertActionWire = 'resume' | 'stop' | 'release' | 'stop_supervisor';
export const ALERT_ACTIONS: readonly AlertActionWire[] = ['resume', 'stop', 'release', 'stop_supervisor'];
export interface Alert {
  alert_id: number; reason: AlertReason; agent_id: string; display_name: string; project: string | null;
  message: string; actions: AlertActionWire[]; raised_at: number;
}

/** What a stop's recheck found (`[halt] recheck_after_s` after a verified stop). */
export type RecheckVerdict = 'still_gone' | 'respawned_held' | 'respawned';
export interface StopRechecked {
  agent_id: string; display_name: string; project: string | null; after_s: number;
  verdict: RecheckVerdict; supervisor: string | null;
}

export type Payload =
  | { kind: 'agent_snapshot'; body: { agents: AgentSummary[] } }
  | { kind: 'agent_event'; body: AgentEvent }
  | { kind: 'approval_request'; body: ApprovalRequest }
  | { kind: 'approval_resolved'; body: ApprovalResolved }
  | { kind: 'approval_decision'; body: ApprovalDecision }
  | { kind: 'command'; body: Command }
  | { kind: 'command_ack'; body: CommandAck }
  | { kind: 'presence'; body: { online: boolean } }
  | { kind: 'heartbeat'; body: { interval_s: number } }
  | { kind: 'pairing_hello'; body: { phone_public: string; device_name: string } }
  | { kind: 'pairing_accepted'; body: { desktop_name: string } }
  | { kind: 'pairing_rejected'; body: PairingRejected }
  | { kind: 'alert'; body: Alert }
  | { kind: 'alert_cleared'; body: { alert_id: number } }
  | { kind: 'stop_rechecked'; body: StopRechecked };

export type PairingRejectReason = 'user_rejected' | 'expired' | 'already_used';
/**
 * hello_msg_id (b64u) names the hello an already_used answers; null for the
 * other reasons. Optional in the type because only tests build these.
 */
export interface PairingRejected { reason: PairingRejectReason; hello_msg_id?: string | null }

export const actionHash = (action: string): string => hexEncode(sha256(utf8(action)));

class Bad extends Error {}
const bad = (f: string): never => {
  throw new Bad(f);
};
const obj = (v: JsonValue | undefined, f: string): JsonObject => (isObject(v) ? v : bad(f));
const str = (o: JsonObject, f: string): string => (typeof o[f] === 'string' ? (o[f] as string) : bad(f));
const optStr = (o: JsonObject, f: string): string | null => (o[f] == null ? null : str(o, f));
const int = (o: JsonObject, f: string, max?: number): number => uint(o[f], max) ?? bad(f);
const optInt = (o: JsonObject, f: string): number | null => (o[f] == null ? null : int(o, f));
const bool = (o: JsonObject, f: string): boolean => (typeof o[f] === 'boolean' ? (o[f] as boolean) : bad(f));
function oneOf<T extends string>(o: JsonObject, f: string, allowed: readonly T[]): T {
  const s = str(o, f);
  return (allowed as readonly string[]).includes(s) ? (s as T) : bad(f);
}
const U32 = 0xffff_ffff;
const OPS = ['stop', 'pause', 'resume', 'release', 'stop_supervisor'] as const;

function target(v: JsonValue | undefined): Target {
  if (v === 'all') return 'all';
  const o = obj(v, 'target');
  if (Object.keys(o).length !== 1) bad('target');
  return { agent: str(o, 'agent') };
}

function agent(v: JsonValue | undefined): AgentSummary {
  const o = obj(v, 'agent');
  return {
    id: str(o, 'id'), kind: str(o, 'kind'), display_name: str(o, 'display_name'), pid: int(o, 'pid', U32),
    project: optStr(o, 'project'), cwd: optStr(o, 'cwd'), started_at: int(o, 'started_at'),
    cpu_percent: float(o.cpu_percent) ?? bad('cpu_percent'), memory_bytes: int(o, 'memory_bytes'),
    descendants: int(o, 'descendants', U32),
    state: oneOf<AgentStatus>(o, 'state', ['running', 'paused', 'stopping', 'exited']),
  };
}

function alertReason(v: JsonValue | undefined): AlertReason {
  const o = obj(v, 'reason');
  switch (str(o, 'kind')) {
    case 'stop_word':
      return { kind: 'stop_word', word: str(o, 'word') };
    case 'tripwire':
      return { kind: 'tripwire', rule: str(o, 'rule'), count: int(o, 'count', U32), window_s: int(o, 'window_s', U32) };
    case 'respawn_held':
      return { kind: 'respawn_held', stopped: str(o, 'stopped'), supervisor: str(o, 'supervisor') };
    case 'audit_failing':
      return { kind: 'audit_failing', lost: int(o, 'lost'), since_ms: int(o, 'since_ms'), error: str(o, 'error') };
    default:
      return { kind: 'other' }; // a newer desktop's reason: the message says it
  }
}

function alert(o: JsonObject): Alert {
  const acts = Array.isArray(o.actions) ? o.actions : bad('actions');
  return {
    alert_id: int(o, 'alert_id'), reason: alertReason(o.reason), agent_id: str(o, 'agent_id'),
    display_name: str(o, 'display_name'), project: optStr(o, 'project'), message: str(o, 'message'),
    // Actions this app does not know are left out, never guessed at.
    actions: acts.filter((a): a is AlertActionWire => typeof a === 'string' && (ALERT_ACTIONS as readonly string[]).includes(a)),
    raised_at: int(o, 'raised_at'),
  };
}

function body(kind: Kind, o: JsonObject): Payload['body'] {
  switch (kind) {
    case 'agent_snapshot': {
      const a = o.agents;
      return { agents: Array.isArray(a) ? a.map(agent) : bad('agents') };
    }
    case 'agent_event': {
      const e = oneOf(o, 'event', ['appeared', 'changed', 'exited'] as const);
      return e === 'exited' ? { event: e, id: str(o, 'id') } : { event: e, agent: agent(o.agent) };
    }
    case 'approval_request':
      return {
        request_id: str(o, 'request_id'), agent_id: str(o, 'agent_id'), session_id: optStr(o, 'session_id'),
        tool: str(o, 'tool'), action: str(o, 'action'), action_hash: str(o, 'action_hash'), cwd: optStr(o, 'cwd'),
        expires_at_ms: int(o, 'expires_at_ms'),
        risk: o.risk == null ? null : oneOf<Risk>(o, 'risk', ['low', 'medium', 'high']),
        reason: optStr(o, 'reason'), allow_session: o.allow_session == null ? null : bool(o, 'allow_session'),
      };
    case 'approval_resolved':
      return {
        request_id: str(o, 'request_id'), action_hash: str(o, 'action_hash'),
        resolution: oneOf<Resolution>(o, 'resolution', ['allowed', 'denied', 'expired', 'abstained']),
        by: optStr(o, 'by'), by_name: optStr(o, 'by_name'),
      };
    case 'approval_decision':
      return {
        request_id: str(o, 'request_id'), action_hash: str(o, 'action_hash'),
        decision: oneOf(o, 'decision', ['allow', 'deny'] as const),
        scope: o.scope == null ? null : oneOf(o, 'scope', ['once', 'session'] as const),
      };
    case 'command':
      return { op: oneOf(o, 'op', OPS), target: target(o.target) };
    case 'command_ack':
      return {
        command_msg_id: str(o, 'command_msg_id'), op: oneOf(o, 'op', OPS), target: target(o.target),
        outcome: oneOf<AckOutcome>(o, 'outcome', ['done', 'partial', 'failed', 'no_such_agent', 'refused']),
        processes: int(o, 'processes', U32), frozen_after_us: optInt(o, 'frozen_after_us'),
        gone_after_us: optInt(o, 'gone_after_us'), detail: optStr(o, 'detail'),
      };
    case 'presence':
      return { online: bool(o, 'online') };
    case 'heartbeat':
      return { interval_s: int(o, 'interval_s', U32) };
    case 'pairing_hello':
      return { phone_public: str(o, 'phone_public'), device_name: str(o, 'device_name') };
    case 'pairing_accepted':
      return { desktop_name: str(o, 'desktop_name') };
    case 'pairing_rejected':
      return {
        reason: oneOf<PairingRejectReason>(o, 'reason', ['user_rejected', 'expired', 'already_used']),
        hello_msg_id: optStr(o, 'hello_msg_id'),
      };
    case 'alert':
      return alert(o);
    case 'alert_cleared':
      return { alert_id: int(o, 'alert_id') };
    case 'stop_rechecked':
      // A verdict this app does not know fails here: the message is dropped, nothing shown.
      return {
        agent_id: str(o, 'agent_id'), display_name: str(o, 'display_name'), project: optStr(o, 'project'),
        after_s: int(o, 'after_s'), verdict: oneOf<RecheckVerdict>(o, 'verdict', ['still_gone', 'respawned_held', 'respawned']),
        supervisor: optStr(o, 'supervisor'),
      };
  }
}

/** Decodes and validates a body; throws with the offending field name (no contents). */
export function decodeBody(kind: Kind, text: string): Payload {
  let v: JsonValue;
  try {
    v = parseStrictJson(text);
  } catch {
    throw new Error('not JSON');
  }
  try {
    return { kind, body: body(kind, obj(v, 'body')) } as Payload;
  } catch (e) {
    throw new Error(e instanceof Bad ? `field ${e.message}` : 'invalid');
  }
}

/** Compact JSON with keys in the Rust struct's order (what the desktop would emit). */
export function encodeBody(p: Payload): string {
  const b = p.body as unknown as Record<string, unknown>;
  const order: Partial<Record<Kind, string[]>> = {
    approval_decision: ['request_id', 'action_hash', 'decision', 'scope'],
    command: ['op', 'target'],
    presence: ['online'],
    heartbeat: ['interval_s'],
    pairing_hello: ['phone_public', 'device_name'],
    pairing_accepted: ['desktop_name'],
    pairing_rejected: ['reason', 'hello_msg_id'],
  };
  const keys = order[p.kind];
  if (!keys) return JSON.stringify(b); // d2p bodies: only tests encode these
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = b[k] ?? null;
  return JSON.stringify(out);
}
