# Shared by scripts/tray-smoke.sh and scripts/tray-bench.sh (sourced, not
# run): a private desktop session for the tray app, with real components.
#
#   tray_session_enter "$0" "$@"   re-runs the calling script inside
#       `xvfb-run -a` + `dbus-run-session`, with HOME and every XDG
#       directory in a temp dir (set *before* dbus-run-session, so GTK and
#       WebKit neither write into the real home nor reach the real
#       session's services). Returns only inside the session.
#   tray_host                      status-notifier-watcher on that bus
#   reins_daemon                   `reins daemon`, waited for by its ready line
#   start_agent NAME               a fake agent named NAME with two children;
#                                  sets agent_pids (root first)
#   start_tray [ARGS]              reins-tray; sets tray_pid
#   family | webkit_pids [GLOB]    the tray and its descendants; those of
#                                  them that are WebKit's (all, or the
#                                  ones whose comm matches GLOB)
#   x_close WINDOW                 ask a window to close (WM_DELETE_WINDOW)
#   tray_menu_ready                finds the tray's item and its dbusmenu
#   layout | entry_id LABEL | lists LABEL | click ID
#   poll SECONDS CMD...            retry CMD every 0.1 s until it succeeds
#
# Binaries: $REINS_BIN, $FAKE_AGENT, $REINS_TRAY (default: the builds of
# $REINS_PROFILE, default debug, in $CARGO_TARGET_DIR). Everything started
# is killed by its PID on exit.

tray_session_enter() {
  if [ "${REINS_TRAY_SESSION:-}" = 1 ]; then return 0; fi
  local target="${CARGO_TARGET_DIR:-/var/cache/reins-target}" profile="${REINS_PROFILE:-debug}" b
  export REINS_BIN="${REINS_BIN:-$target/$profile/reins}"
  export FAKE_AGENT="${FAKE_AGENT:-$target/$profile/fake-agent}"
  export REINS_TRAY="${REINS_TRAY:-$target/$profile/reins-tray}"
  for b in "$REINS_BIN" "$FAKE_AGENT" "$REINS_TRAY"; do
    [ -x "$b" ] || { echo "$b is missing: build it first (cargo build -p reins -p reins-e2e -p reins-tray)" >&2; exit 1; }
  done
  local work rc=0
  work=$(mktemp -d /tmp/reins-tray-session.XXXXXX)
  mkdir -p "$work"/{home,config,data,cache,run,bin}
  chmod 700 "$work/run"
  export REINS_TRAY_WORK="$work"
  export HOME="$work/home" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" \
    XDG_CACHE_HOME="$work/cache" XDG_RUNTIME_DIR="$work/run"
  unset DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY
  REINS_TRAY_SESSION=1 xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$@" || rc=$?
  if [ "$rc" = 0 ]; then rm -rf "$work"; else echo "FAILED; logs kept in $work" >&2; fi
  exit "$rc"
}

work="${REINS_TRAY_WORK:-}"
session_pids=()
trap 'for p in "${session_pids[@]}"; do kill -KILL -- "$p" 2>/dev/null || true; done' EXIT

step() { echo "== $(basename "$0"): $*"; }
fail() { echo "$(basename "$0"): $*" >&2; exit 1; }
poll() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# The daemon's environment, as the end-to-end tests set it: loopback, free
# ports, a short stop grace.
export REINS__HALT__GRACE_MS=1000 REINS__LINK__EMBEDDED_BIND=127.0.0.1 \
  REINS__LINK__EMBEDDED_TCP_PORT=0 REINS__LINK__EMBEDDED_WS_PORT=0 \
  REINS__PHONE__BIND=127.0.0.1 REINS__PHONE__PORT=0

tray_host() {
  status-notifier-watcher > "$work/watcher.log" 2>&1 &
  session_pids+=($!)
  watcher_up() { gdbus introspect --session --dest org.kde.StatusNotifierWatcher --object-path /StatusNotifierWatcher >/dev/null 2>&1; }
  poll 20 watcher_up || fail "status-notifier-watcher did not take org.kde.StatusNotifierWatcher"
}

reins_daemon() {
  mkfifo "$work/daemon.out"
  "$REINS_BIN" daemon > "$work/daemon.out" 2> "$work/daemon.err" &
  daemon_pid=$!
  session_pids+=("$daemon_pid")
  exec 3< "$work/daemon.out"
  local ready
  read -r -t 60 ready <&3 || fail "the daemon printed no ready line: $(cat "$work/daemon.err")"
  echo "$ready"
  cat <&3 > "$work/daemon.log" &
  session_pids+=($!)
}

start_agent() {
  [ -x "$work/bin/$1" ] || cp "$FAKE_AGENT" "$work/bin/$1"
  local out="$work/agent.$RANDOM.$RANDOM" line
  mkfifo "$out"
  # Its own process group, so cleanup can kill the whole tree at once.
  (cd "$HOME" && exec setsid "$work/bin/$1" children 2 sleep > "$out" 2>/dev/null) &
  session_pids+=(-$!)
  read -r -t 30 line < "$out" || fail "the fake agent $1 did not report ready"
  read -r -a agent_pids <<< "${line#ready }"
  echo "agent $1: processes ${agent_pids[*]}"
}

start_tray() {
  "$REINS_TRAY" "$@" > "$work/tray.log" 2>&1 &
  tray_pid=$!
  session_pids+=("$tray_pid")
}

# The tray and every descendant of it, now (one PID a line).
family() {
  awk '{ sub(/^[^)]*\) /, ""); print FILENAME, $2 }' /proc/[0-9]*/stat 2>/dev/null \
    | sed 's|/proc/||; s|/stat||' \
    | awk -v root="$tray_pid" '{ parent[$1] = $2 } END {
        n = 1; fam[root] = 1; changed = 1
        while (changed) { changed = 0
          for (p in parent) if (!(p in fam) && (parent[p] in fam)) { fam[p] = 1; changed = 1 } }
        for (p in fam) print p }'
}
# The tray's descendants that are WebKit processes (comm WebKitWebProces,
# WebKitNetworkPr, …; or those matching $1), as "PID comm" lines.
webkit_pids() {
  local p c
  for p in $(family); do
    c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
    # shellcheck disable=SC2053
    [[ "$c" == ${1:-WebKit*} ]] && echo "$p $c"
  done
  return 0
}
x_close() { python3 "$root/scripts/lib/x-close.py" "$1"; }

# The tray's item on the watcher ("bus-name/object/path" or a bus name),
# then its dbusmenu object path.
tray_item() {
  gdbus call --session --dest org.kde.StatusNotifierWatcher --object-path /StatusNotifierWatcher \
    --method org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierWatcher RegisteredStatusNotifierItems \
    | grep -o "'[^']*'" | head -1 | tr -d "'"
}
tray_menu_ready() {
  local it
  it=$(tray_item)
  [ -n "$it" ] || return 1
  case "$it" in
    */*) item_dest="${it%%/*}"; item_path="/${it#*/}" ;;
    *) # A bare bus name: find its object that implements the item.
      item_dest="$it"
      item_path=$(gdbus introspect --session --dest "$it" --object-path / --recurse 2>/dev/null \
        | python3 -c '
import re, sys
node = None
for line in sys.stdin:
    m = re.match(r"\s*node (/\S*) \{", line)
    if m: node = m.group(1)
    elif "interface org.kde.StatusNotifierItem" in line and node:
        print(node); break')
      [ -n "$item_path" ] || return 1 ;;
  esac
  menu_path=$(gdbus call --session --dest "$item_dest" --object-path "$item_path" \
    --method org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierItem Menu 2>/dev/null \
    | grep -o "'/[^']*'" | tr -d "'")
  [ -n "$menu_path" ]
}
layout() {
  gdbus call --session --dest "$item_dest" --object-path "$menu_path" \
    --method com.canonical.dbusmenu.GetLayout 0 'int32 -1' "['label']"
}
# The id of the first entry whose label contains $1 (mnemonic underscores removed).
entry_id() {
  layout | python3 -c '
import re, sys
want = sys.argv[1]
for m in re.finditer(r"\((\d+), \{[^{}]*?.label.: <.((?:[^\x27\\]|\\.)*).>", sys.stdin.read()):
    if want in m.group(2).replace("_", ""):
        print(m.group(1)); break
' "$1"
}
lists() { [ -n "$(entry_id "$1")" ]; }
labels() {
  layout | python3 -c '
import re, sys
print([l for l in re.findall(r"label.: <.((?:[^\x27\\]|\\.)*).>", sys.stdin.read())])'
}
click() {
  gdbus call --session --dest "$item_dest" --object-path "$menu_path" \
    --method com.canonical.dbusmenu.Event "$1" clicked '<int32 0>' 0 >/dev/null
}
