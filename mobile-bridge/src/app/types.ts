// The contract between the app's core (protocol, storage, links) and its UI.
// The core owns every socket and key; the UI only renders `AppState` and
// calls `AppActions`. Nothing here does I/O.

/** Wire shapes (docs/protocol.md §7), as the UI needs them. */
export type AgentStatus = 'running' | 'paused' | 'stopping' | 'exited';
export interface AgentSummary {
  id: string;
  kind: string;
  display_name: string;
  pid: number;
  project: string | null;
  cwd: string | null;
  started_at: number; // unix seconds (as the desktop sends it)
  cpu_percent: number;
  memory_bytes: number;
  descendants: number;
  state: AgentStatus;
}

export type Risk = 'low' | 'medium' | 'high';

/** A pending request, shown only after its action_hash was checked. */
export interface ApprovalView {
  machineId: string;
  requestId: string;
  agentId: string;
  sessionId: string | null;
  tool: string;
  /** The exact action text (canonical JSON from the desktop), never cut. */
  action: string;
  /** The shell command inside the action, when there is one (for display). */
  command: string | null;
  actionHash: string;
  cwd: string | null;
  expiresAtMs: number;
  /** null when the desktop did not say (older desktop): treat as 'medium'. */
  risk: Risk | null;
  /** Why the policy asked, if the desktop said. */
  reason: string | null;
  /** The agent supports "allow for this session" for this request. */
  allowSession: boolean;
}

/** A request that just left the list, and why (shown briefly). */
export interface ResolvedNotice {
  machineId: string;
  requestId: string;
  resolution: 'allowed' | 'denied' | 'expired' | 'abstained';
  /** Who decided, in words ("this phone", "the terminal", "Pixel 8"), if known. */
  by: string | null;
  atMs: number;
}

export type LinkState =
  | { kind: 'connecting' }
  | { kind: 'connected'; lastMessageMs: number }
  /** Socket down, retrying; data shown is as of lastSyncMs. */
  | { kind: 'reconnecting'; lastSyncMs: number | null; attempt: number; error: string | null }
  /** Socket up but no heartbeat for 3 intervals: data may be old. */
  | { kind: 'stale'; lastSyncMs: number | null };

export interface MachineView {
  /** Stable local id (hex of the pairing_id). */
  id: string;
  /** desktop_name from pairing_accepted. */
  name: string;
  brokers: string[];
  link: LinkState;
  agents: AgentSummary[];
  /** true once a snapshot arrived on the current connection. */
  synced: boolean;
}

export type PairingState =
  | { kind: 'idle' }
  /** Connected and hello sent: show the code, wait for the desktop to confirm. */
  | { kind: 'waiting'; desktopHint: string; code: string; expiresAtMs: number }
  | { kind: 'paired'; machineId: string; name: string }
  | { kind: 'failed'; reason: PairingFailure; message: string };

export type PairingFailure =
  | 'bad_link' // the link is malformed or not a Reins pairing link
  | 'expired' // exp passed, or the desktop said expired
  | 'rejected' // the desktop user rejected the code
  | 'already_used' // token spent: the desktop said so, or this phone used the link before
  | 'unreachable' // no broker in the link could be reached
  | 'timeout'; // no answer before the offer expired

/** One line the UI shows after a command ("claude · api stopped: 52 processes gone in 41 ms"). */
export interface Toast {
  id: number;
  level: 'ok' | 'warn' | 'error';
  text: string;
  atMs: number;
}

export interface AppState {
  machines: MachineView[];
  approvals: ApprovalView[]; // every machine's, oldest first
  alerts: AlertView[]; // every machine's, oldest first
  resolved: ResolvedNotice[]; // recent, newest last
  pairing: PairingState;
  toasts: Toast[];
  /** location is a secure context (https or localhost): SW, notifications. */
  secureContext: boolean;
}

export type CommandOp = 'stop' | 'pause' | 'resume' | 'release' | 'stop_supervisor';

/** What a person may do about an alert; each is a command op. */
export type AlertAction = 'resume' | 'stop' | 'release' | 'stop_supervisor';

/** Reins froze an agent on its own (stop word, tripwire, held respawn). */
export interface AlertView {
  machineId: string;
  alertId: number;
  /** stop_word, tripwire, respawn_held, audit_failing, or other (a newer desktop's kind). */
  reason: string;
  agentId: string;
  displayName: string;
  project: string | null;
  /** One line from the desktop; may contain agent-supplied text: shown as text only. */
  message: string;
  actions: AlertAction[];
  raisedAt: number; // unix seconds
}

export interface AppActions {
  /** Start pairing from a full pairing URL (or its fragment). */
  pair(url: string): Promise<void>;
  cancelPairing(): void;
  /** Forget a machine and delete its keys. */
  unpair(machineId: string): Promise<void>;
  approve(machineId: string, requestId: string, scope: 'once' | 'session'): Promise<void>;
  deny(machineId: string, requestId: string): Promise<void>;
  /** target: an agent id, or 'all' for every agent of that machine. */
  command(machineId: string, op: CommandOp, target: string): Promise<void>;
  /** Stop every agent on every machine. */
  stopEverywhere(): Promise<void>;
  /** Reconnect every link now and resync (visibilitychange, pageshow, online). */
  wake(): void;
  dismissToast(id: number): void;
}

export interface App extends AppActions {
  state(): AppState;
  /** Called after every state change; returns an unsubscribe function. */
  subscribe(listener: (s: AppState) => void): () => void;
  /** New approval arrived (for notifications/vibration). */
  onNewApproval(listener: (a: ApprovalView) => void): () => void;
  /** New alert arrived (for notifications/vibration). */
  onNewAlert(listener: (a: AlertView) => void): () => void;
}
