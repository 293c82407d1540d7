// Reins for OpenClaw: a native OpenClaw plugin (no build step, no
// dependencies) that sends every tool call through
// `reins hook openclaw before-tool-call` before it runs.
//
// What it is: a relay. Reins decides (its denylist, rules, guardrails and
// tripwires, and the daemon's stop requests); this file only passes the call
// to `reins` and maps the one JSON line it prints onto OpenClaw's
// `before_tool_call` result:
//
//   {"action":"allow"} / {"action":"none"}  -> undefined (no opinion)
//   {"action":"block","reason":R}           -> { block: true, blockReason: R }
//   {"action":"ask","title","description","severity"}
//       -> { requireApproval: { title, description, severity,
//            allowedDecisions: ["allow-once", "deny"] } }
//          (a plugin approval; Reins' daemon and OpenClaw's own clients can
//          answer it). For `exec`, when `deferExecToApprovals` is set (what
//          `reins install openclaw` writes, because it also makes exec
//          approvals ask for every command), "ask" returns undefined so the
//          person is not asked twice; a block still blocks.
//
// What it is not: a policy. It never allows on its own account, and it
// fails closed: if `reins` cannot be run, exits non-zero, takes longer than
// REINS_TIMEOUT_MS, or prints anything but one valid line, the call is
// blocked with a reason that says what happened, and the failure is logged.
//
// The payload written to reins' stdin is Reins' own (documented in
// crates/reins-approval/src/hooks/openclaw.rs):
//   {"hook_event_name":"before_tool_call","tool_name","tool_input":<params>,
//    "tool_call_id","session_id":<ctx.sessionKey>,"agent_id":<ctx.agentId>,
//    "run_id","cwd":<ctx.workspaceDir, else exec's workdir>}

import { spawn } from "node:child_process";

export const PLUGIN_ID = "reins";

/**
 * How long reins may take before the call is blocked. OpenClaw gives a
 * before_tool_call handler 15 s (DEFAULT_MODIFYING_HOOK_TIMEOUT_MS) and then
 * blocks the call with a generic "hook failed"; staying well below it lets
 * this plugin block first with a reason that names the cause. reins itself
 * answers in milliseconds: it never waits for a person here (at most 2 s for
 * a wedged daemon's acknowledgement).
 */
export const REINS_TIMEOUT_MS = 10_000;

/** Largest answer read from reins; one line is a few hundred bytes. */
const MAX_OUTPUT = 64 * 1024;

const HOOK_ARGS = ["hook", "openclaw", "before-tool-call"];
const SEVERITIES = new Set(["info", "warning", "critical"]);
const DOCTOR = "run `reins doctor`";

/** The plugin's settings, checked; `error` says what is wrong with them. */
export function readConfig(raw) {
  const cfg = raw && typeof raw === "object" ? raw : {};
  const reinsPath = typeof cfg.reinsPath === "string" ? cfg.reinsPath : "";
  const tools = Array.isArray(cfg.tools)
    ? cfg.tools.filter((t) => typeof t === "string" && t.trim() !== "")
    : [];
  const timeoutMs =
    Number.isInteger(cfg.timeoutMs) && cfg.timeoutMs >= 100 && cfg.timeoutMs <= 14_000
      ? cfg.timeoutMs
      : REINS_TIMEOUT_MS;
  let error;
  if (!reinsPath || !reinsPath.startsWith("/")) {
    error = "the Reins plugin has no absolute reinsPath in its config; run `reins install openclaw`";
  }
  return { reinsPath, tools, timeoutMs, deferExec: cfg.deferExecToApprovals === true, error };
}

/** Reins' payload for one tool call. */
export function payloadFor(event, ctx = {}) {
  const params = event && typeof event.params === "object" && event.params !== null ? event.params : {};
  const toolName = event?.toolName ?? ctx.toolName;
  const cwd =
    typeof ctx.workspaceDir === "string"
      ? ctx.workspaceDir
      : toolName === "exec" && typeof params.workdir === "string"
        ? params.workdir
        : undefined;
  const p = {
    hook_event_name: "before_tool_call",
    tool_name: toolName,
    tool_input: params,
    tool_call_id: event?.toolCallId ?? ctx.toolCallId,
    session_id: ctx.sessionKey,
    agent_id: ctx.agentId,
    run_id: event?.runId ?? ctx.runId,
    cwd,
  };
  for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
  return p;
}

/**
 * Check reins' stdout: exactly one JSON line with a known action.
 * Returns the answer, or throws an Error saying what was wrong.
 */
export function parseAnswer(stdout) {
  const text = stdout.endsWith("\n") ? stdout.slice(0, -1) : stdout;
  if (text.trim() === "") throw new Error("reins printed nothing");
  if (text.includes("\n")) throw new Error("reins printed more than one line");
  let a;
  try {
    a = JSON.parse(text);
  } catch {
    throw new Error(`reins printed something that is not JSON: ${JSON.stringify(text.slice(0, 120))}`);
  }
  if (!a || typeof a !== "object") throw new Error("reins printed JSON that is not an object");
  switch (a.action) {
    case "allow":
    case "none":
      return { action: a.action };
    case "block":
      return { action: "block", reason: typeof a.reason === "string" && a.reason ? a.reason : "Reins blocked this tool call." };
    case "ask":
      if (typeof a.title !== "string" || typeof a.description !== "string" || !SEVERITIES.has(a.severity)) {
        throw new Error("reins printed an ask without title, description and severity");
      }
      return { action: "ask", title: a.title, description: a.description, severity: a.severity };
    default:
      throw new Error(`reins printed an unknown action ${JSON.stringify(String(a.action)).slice(0, 40)}`);
  }
}

/**
 * Run reins once. Resolves to {answer} or {failure: "<what happened>"};
 * never rejects; a child still running when it resolves is killed.
 */
export function askReins(reinsPath, payload, timeoutMs, signal) {
  return new Promise((resolve) => {
    let done = false;
    let out = "";
    let err = "";
    let child;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener?.("abort", onAbort);
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      resolve(r);
    };
    const onAbort = () => finish({ failure: "the tool call was cancelled" });
    const timer = setTimeout(
      () => finish({ failure: `reins did not answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    try {
      child = spawn(reinsPath, HOOK_ARGS, { stdio: ["pipe", "pipe", "pipe"] });
    } catch (e) {
      finish({ failure: `cannot run reins at ${reinsPath}: ${e.message}` });
      return;
    }
    signal?.addEventListener?.("abort", onAbort, { once: true });
    child.on("error", (e) => finish({ failure: `cannot run reins at ${reinsPath}: ${e.code ?? e.message}` }));
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      out += d;
      if (out.length > MAX_OUTPUT) finish({ failure: "reins printed more than 64 KiB" });
    });
    child.stderr.on("data", (d) => {
      if (err.length < 4096) err += d;
    });
    child.on("close", (code, sig) => {
      if (code !== 0) {
        const how = sig ? `was killed by ${sig}` : `exited with code ${code}`;
        const tail = err.trim().split("\n").slice(-1)[0] ?? "";
        finish({ failure: `reins ${how}${tail ? ` (${tail.slice(0, 200)})` : ""}` });
        return;
      }
      try {
        finish({ answer: parseAnswer(out) });
      } catch (e) {
        finish({ failure: e.message });
      }
    });
    child.stdin.on("error", () => {}); // reins exiting early is reported by "close"
    child.stdin.end(JSON.stringify(payload));
  });
}

/** OpenClaw's before_tool_call result for one answer. */
export function toHookResult(answer, toolName, deferExec) {
  switch (answer.action) {
    case "block":
      return { block: true, blockReason: answer.reason };
    case "ask":
      if (toolName === "exec" && deferExec) return undefined;
      return {
        requireApproval: {
          title: answer.title,
          description: answer.description,
          severity: answer.severity,
          allowedDecisions: ["allow-once", "deny"],
        },
      };
    default:
      return undefined;
  }
}

/** The handler registered for before_tool_call, for a given config. */
export function createHandler(cfg, logger = console) {
  const gated = cfg.tools.length > 0 ? new Set(cfg.tools) : null;
  return async function reinsBeforeToolCall(event, ctx = {}) {
    const toolName = event?.toolName ?? ctx.toolName;
    if (gated && !gated.has(toolName)) return undefined;
    if (cfg.error) {
      logger.error?.(`reins: blocked ${toolName}: ${cfg.error}`);
      return { block: true, blockReason: `Reins could not check this call: ${cfg.error}.` };
    }
    const r = await askReins(cfg.reinsPath, payloadFor(event, ctx), cfg.timeoutMs, ctx.abortSignal);
    if (r.failure) {
      logger.error?.(`reins: blocked ${toolName}: ${r.failure}`);
      return {
        block: true,
        blockReason: `Reins could not check this call, so it is blocked: ${r.failure}; ${DOCTOR}.`,
      };
    }
    return toHookResult(r.answer, toolName, cfg.deferExec);
  };
}

export default {
  id: PLUGIN_ID,
  name: "Reins",
  description: "Every tool call goes through Reins; fails closed when reins cannot be run.",
  register(api) {
    const cfg = readConfig(api.pluginConfig);
    if (cfg.error) api.logger?.error?.(`reins: ${cfg.error}; every gated tool call will be blocked`);
    const opts = { priority: 100 };
    if (cfg.tools.length > 0) opts.matcher = cfg.tools;
    api.on("before_tool_call", createHandler(cfg, api.logger), opts);
  },
};
