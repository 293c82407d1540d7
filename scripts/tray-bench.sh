#!/usr/bin/env bash
# The tray app's idle cost (issue 9, §9): `reins-tray` with its window
# closed (never opened) and 5 fake agents running, each with two children,
# in a private session (Xvfb, dbus-run-session, status-notifier-watcher as
# the tray host, a real `reins daemon`; see scripts/lib/tray-session.sh).
#
# What is counted: the tray process and every descendant of it (WebKitGTK's
# WebKitWebProcess and WebKitNetworkProcess while a window exists; the
# window is created only when opened, so with `--opened` it is opened as a
# second instance does and closed again before measuring, to count what a
# closed window leaves behind). Not the daemon, the agents or the X server.
#   CPU: the sum of utime+stime (/proc/<pid>/stat) over the window, as a
#        percentage of one core, after a warm-up.
#   RSS: the sum of VmRSS (/proc/<pid>/status), sampled every second, the
#        largest sum reported; and the sum of Pss (/proc/<pid>/smaps_rollup),
#        which shares the libraries the processes map in common fairly.
#
# Usage: scripts/tray-bench.sh [SECONDS] [--opened]   (default 60; the
# binaries of $REINS_PROFILE, default debug: REINS_PROFILE=release for
# release builds). A measuring tool, not a test.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=lib/tray-session.sh
. "$root/scripts/lib/tray-session.sh"
tray_session_enter "$0" "$@"
secs="${1:-60}"
opened="${2:-}"
warmup=10

tray_host
reins_daemon
for _ in 1 2 3 4 5; do start_agent claude; done
start_tray
poll 60 tray_menu_ready || fail "the tray registered no menu: $(cat "$work/tray.log")"
agents_listed() { [ "$(labels | grep -o Claude | wc -l)" -ge 5 ]; }
poll 60 agents_listed || fail "the menu never listed the 5 agents: $(labels)"
if [ "$opened" = --opened ]; then
  step "open the window (second instance), wait for it, close it"
  "$REINS_TRAY" --open agents > "$work/tray2.log" 2>&1 || fail "the second instance failed"
  window() { xdotool search --onlyvisible --name '^Reins$' 2>/dev/null | head -1; }
  mapped() { [ -n "$(window)" ]; }
  poll 30 mapped || fail "the window never showed"
  has_webkit() { [ -n "$(webkit_pids)" ]; }
  poll 30 has_webkit || fail "no WebKit process for the open window"
  x_close "$(window)"
  no_web() { [ -z "$(webkit_pids 'WebKitWeb*')" ]; }
  poll 30 no_web || fail "WebKit web processes remain after the close: $(webkit_pids)"
  kill -0 "$tray_pid" 2>/dev/null || fail "the tray exited with its window"
fi

ticks() { # sum of utime+stime of the given pids
  local p t=0 s f
  for p in "$@"; do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    read -r -a f <<< "${s##*) }" # f[0] is field 3 (state): utime is 14, stime 15
    t=$((t + f[11] + f[12]))
  done
  echo "$t"
}
sum_kb() { # FIELD FILE-SUFFIX pids...
  local field="$1" file="$2" p t=0 v; shift 2
  for p in "$@"; do
    v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$p/$file" 2>/dev/null) || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

step "warm-up ${warmup} s, then ${secs} s idle with the window closed"
sleep "$warmup"
mapfile -t fam < <(family)
names=$(for p in "${fam[@]}"; do cat "/proc/$p/comm"; done | sort | uniq -c | tr -s ' ' | paste -sd, -)
t0=$(ticks "${fam[@]}"); s0=$SECONDS; rss_max=0; pss_max=0
while [ $((SECONDS - s0)) -lt "$secs" ]; do
  sleep 1
  mapfile -t fam < <(family)
  r=$(sum_kb VmRSS status "${fam[@]}"); [ "$r" -gt "$rss_max" ] && rss_max=$r
  q=$(sum_kb Pss smaps_rollup "${fam[@]}"); [ "$q" -gt "$pss_max" ] && pss_max=$q
done
t1=$(ticks "${fam[@]}"); el=$((SECONDS - s0)); hz=$(getconf CLK_TCK)
echo
echo "tray idle, window closed${opened:+ (after one open)}, 5 agents (3 processes each), ${el} s, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "processes counted: ${names}"
awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$el" 'BEGIN { printf "CPU: %.2f %% of one core (%d ticks)\n", d / hz / s * 100, d }'
awk -v k="$rss_max" 'BEGIN { printf "RSS (sum of VmRSS, largest sample): %.1f MB\n", k / 1024 }'
awk -v k="$pss_max" 'BEGIN { printf "PSS (sum of Pss, largest sample): %.1f MB\n", k / 1024 }'
for p in "${fam[@]}"; do # the last sample, per process
  awk -v c="$(cat "/proc/$p/comm" 2>/dev/null)" -v r="$(sum_kb VmRSS status "$p")" -v q="$(sum_kb Pss smaps_rollup "$p")" \
    'BEGIN { printf "  %-16s RSS %6.1f MB, PSS %6.1f MB\n", c, r / 1024, q / 1024 }'
done
