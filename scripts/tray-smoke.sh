#!/usr/bin/env bash
# GUI smoke test of the tray app, with real components only: Xvfb, a private
# dbus-daemon, status-notifier-watcher as the tray host, a real `reins
# daemon` and a real fake agent with two child processes.
#
#   1. launch `reins-tray` against the daemon with the agent running;
#   2. read the tray menu over D-Bus (StatusNotifierWatcher → the item's
#      Menu → com.canonical.dbusmenu.GetLayout) and check it lists the agent
#      and "Stop all agents";
#   3. click "Stop all agents" (com.canonical.dbusmenu.Event … clicked) and
#      check the agent's whole process tree is gone;
#   4. check the idle tray runs no WebKit process (the window is created
#      only when opened);
#   5. start an OpenClaw agent, check its submenu offers "Stop this run
#      (keep gateway)", click it (no gateway here: it fails) and check the
#      window opens with the result and the agent's tree is untouched;
#   6. start a second agent and an approval request, open the window as a
#      second instance (`reins-tray --open agents`) and save a screenshot;
#   7. close the window as a window manager does (WM_DELETE_WINDOW) and
#      check the window and its WebKit web process go while the tray stays
#      (WebKitGTK's network process may stay: see below).
#
# Usage: scripts/tray-smoke.sh [--shot PATH]   (default
# docs/screenshots/desktop-tray.png). The session is private (see
# scripts/lib/tray-session.sh); no step sleeps to wait: each polls for its
# condition with a deadline.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=lib/tray-session.sh
. "$root/scripts/lib/tray-session.sh"
tray_session_enter "$0" "$@"

shot="$root/docs/screenshots/desktop-tray.png"
[ "${1:-}" = --shot ] && shot="$2"

step "tray host: status-notifier-watcher on a private session bus"
tray_host
step "reins daemon"
reins_daemon
step "a fake agent (claude) with two children"
start_agent claude
tree=("${agent_pids[@]}")

step "reins-tray"
start_tray
poll 60 tray_menu_ready || fail "the tray registered no StatusNotifierItem with a menu: $(cat "$work/tray.log")"
echo "item $item_dest $item_path, menu $menu_path"

step "the menu lists the agent and Stop all agents"
poll 30 lists "Claude" || fail "the menu never listed the agent: $(labels)"
poll 10 lists "Stop all agents" || fail "the menu has no 'Stop all agents': $(labels)"
echo "menu labels: $(labels)"

step "click Stop all agents; the agent's whole tree must go"
click "$(entry_id "Stop all agents")"
# Gone: no /proc entry, or a zombie (this script reaps the root).
gone() {
  local p
  for p in "${tree[@]}"; do
    [ -e "/proc/$p/stat" ] || continue
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] || return 1
  done
}
poll 20 gone || fail "processes of the stopped tree remain: $(for p in "${tree[@]}"; do cat "/proc/$p/stat" 2>/dev/null; done)"
echo "all ${#tree[@]} processes gone: ${tree[*]}"

step "no window yet: no WebKit process under the tray"
[ -z "$(webkit_pids)" ] || fail "the idle tray runs WebKit processes: $(webkit_pids)"

window() { xdotool search --onlyvisible --name '^Reins$' 2>/dev/null | head -1; }
mapped() { [ -n "$(window)" ]; }

step "an OpenClaw agent: its submenu offers Stop this run (keep gateway)"
start_agent openclaw-gateway   # comm "openclaw-gatewa": the renamed gateway
oc_tree=("${agent_pids[@]}")
poll 30 lists "Stop this run (keep gateway)" || fail "no 'Stop this run' for the OpenClaw agent: $(labels)"
step "click it: no gateway is set up here, so it fails; the window opens with the result; the agent is untouched"
click "$(entry_id "Stop this run (keep gateway)")"
poll 30 mapped || fail "a failed 'Stop this run' did not open the window: $(cat "$work/tray.log")"
for p in "${oc_tree[@]}"; do
  kill -0 "$p" 2>/dev/null || fail "the soft stop ended process $p of the OpenClaw agent"
done
echo "window open on the failure; OpenClaw agent still running: ${oc_tree[*]}"

step "a second agent and a pending approval, then the window as a second instance"
start_agent codex
payload='{"session_id":"smoke","transcript_path":"/tmp/t.jsonl","cwd":"/work/app","permission_mode":"default","hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"cargo publish --dry-run","description":"check the package"}}'
printf '%s' "$payload" | "$REINS_BIN" hook claude permission-request > "$work/hook.out" 2>&1 &
session_pids+=($!)
has_pending() { "$REINS_BIN" approvals --json 2>/dev/null | grep -q cargo; }
poll 30 has_pending || fail "the approval request never became pending: $(cat "$work/hook.out")"

"$REINS_TRAY" --open agents > "$work/tray2.log" 2>&1 || fail "the second instance failed: $(cat "$work/tray2.log")"
poll 30 mapped || fail "the window never showed: $(cat "$work/tray.log")"
# Drawn: many colours (not a blank page), and two shots in a row the same.
mkdir -p "$(dirname "$shot")"
win=$(window)
drawn() {
  import -window "$win" "$work/a.png" 2>/dev/null || return 1
  [ "$(identify -format %k "$work/a.png")" -gt 200 ] || return 1
  import -window "$win" "$work/b.png" 2>/dev/null || return 1
  [ "$(compare -metric AE "$work/a.png" "$work/b.png" null: 2>&1 || true)" = 0 ]
}
poll 60 drawn || fail "the window never finished drawing"
# The window is created on open: its page must have the state before the
# shot is worth keeping. The pending approval shows as the amber "waiting"
# badge (#f59e0b) in the nav, which the page draws only from the state.
has_state() {
  drawn || return 1
  [ "$(convert "$work/b.png" -fuzz 2% -fill black +opaque '#F59E0B' -fill white -opaque '#F59E0B' \
    -format '%[fx:round(mean*w*h)]' info:)" -gt 50 ]
}
poll 60 has_state || fail "the new window never showed the state (no waiting badge)"
cp "$work/b.png" "$shot"
echo "screenshot: $shot"
echo "WebKit processes with the window open: $(webkit_pids | paste -sd, -)"
[ -n "$(webkit_pids)" ] || fail "no WebKit process under the tray with the window open"

step "close the window: it goes, and so do WebKit's processes; the tray stays"
x_close "$win" || fail "could not send the window WM_DELETE_WINDOW"
unmapped() { [ -z "$(window)" ]; }
poll 30 unmapped || fail "the window is still shown after the close request"
# The page's web process must exit. WebKitGTK keeps its network process
# while the web context lives, and tauri-runtime-wry keeps the context for
# the app's lifetime on Linux (tauri#14626): at most that one may stay.
no_web() { [ -z "$(webkit_pids 'WebKitWeb*')" ]; }
poll 30 no_web || fail "WebKit web processes remain after the close: $(webkit_pids)"
left=$(webkit_pids)
[ "$(printf '%s' "$left" | grep -c . || true)" -le 1 ] && ! grep -qv 'WebKitNetwork' <<< "${left:-WebKitNetwork}" \
  || fail "WebKit processes other than one network process remain: $left"
kill -0 "$tray_pid" 2>/dev/null || fail "the tray exited with its window: $(cat "$work/tray.log")"
poll 10 tray_menu_ready || fail "the tray's item is gone after the close"
echo "window closed; no WebKit web process remains (left: ${left:-nothing}); the tray is still up"
step "passed"
