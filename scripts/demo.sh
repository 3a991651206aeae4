#!/usr/bin/env bash
# Demo: a program run under ckpt-run is killed with SIGKILL half-way, the same command is run
# again, and the program resumes from its last checkpoint and ends with the same output as a
# run that was never interrupted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh >/dev/null

repo=$(pwd)
ckpt_run=$repo/build/bin/ckpt-run
counter=$repo/build/tests/programs/counter
steps=60 step_us=50000   # 3 seconds

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-demo.XXXXXX")
launcher_pid=''
cleanup() {
  if [[ -n $launcher_pid ]] && kill -0 "$launcher_pid" 2>/dev/null; then
    pid=$(sed -n 's/^program_pid=//p' "$tmp/ckpt/demo/status" 2>/dev/null || true)
    [[ -n $pid && $pid != 0 ]] && kill -KILL "$pid" 2>/dev/null || true
    kill -KILL "$launcher_pid" 2>/dev/null || true
    wait "$launcher_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
indent() { sed 's/^/    /'; }
fail() { echo "demo FAILED: $*" >&2; exit 1; }

# The command, the same every time. Its stdout is opened with 1<> (read-write, no truncation),
# so that after a restore the program continues writing where the checkpoint left it.
cmd=("$ckpt_run" --dir "$tmp/ckpt" --name demo --interval 200ms -v -- "$counter" "$steps" "$step_us")

say "1. Uninterrupted run of: counter $steps $step_us (without ckpt-run)"
"$counter" "$steps" "$step_us" >"$tmp/reference.out"
tail -n 2 "$tmp/reference.out" | indent

say "2. The same program under ckpt-run, a checkpoint every 200 ms"
echo "    \$ ckpt-run --dir $tmp/ckpt --name demo --interval 200ms -v -- counter $steps $step_us 1<>out"
: >"$tmp/out"
"${cmd[@]}" 1<>"$tmp/out" 2>"$tmp/run1.log" &
launcher_pid=$!
for _ in $(seq 1 500); do
  compgen -G "$tmp/ckpt/demo/ckpt-*.img" >/dev/null && break
  kill -0 "$launcher_pid" 2>/dev/null || fail "ckpt-run ended before its first checkpoint: $(cat "$tmp/run1.log")"
  sleep 0.01
done
compgen -G "$tmp/ckpt/demo/ckpt-*.img" >/dev/null || fail "no checkpoint after 5 s"
sleep 0.7   # let it get on a bit past its first checkpoint
pid=$(sed -n 's/^program_pid=//p' "$tmp/ckpt/demo/status")
echo "    program pid $pid has written $(wc -l <"$tmp/out") lines; last: $(tail -n 1 "$tmp/out")"
echo "    checkpoints: $(cd "$tmp/ckpt/demo" && echo ckpt-*.img)"

say "3. kill -KILL $pid"
kill -KILL "$pid"
rc=0; wait "$launcher_pid" || rc=$?
launcher_pid=''
indent <"$tmp/run1.log" | tail -n 3
echo "    ckpt-run exited with $rc; output so far: $(wc -l <"$tmp/out") lines"
[[ $rc == 137 ]] || fail "expected exit status 137 after SIGKILL, got $rc"

say "4. The very same command again"
rc=0; "${cmd[@]}" 1<>"$tmp/out" 2>"$tmp/run2.log" || rc=$?
indent <"$tmp/run2.log" | grep -E 'recovering|restored from checkpoint version|exited with status' || true
grep -q 'restored from checkpoint version' "$tmp/run2.log" || fail "the second run did not restore: $(cat "$tmp/run2.log")"
[[ $rc == 0 ]] || fail "the second run exited with $rc"
tail -n 2 "$tmp/out" | indent

say "5. Compare with the uninterrupted run"
if cmp -s "$tmp/reference.out" "$tmp/out"; then
  echo "    OK: output identical to the uninterrupted run ($(wc -l <"$tmp/out") lines)"
else
  diff "$tmp/reference.out" "$tmp/out" | head -n 20 | indent
  fail "output differs from the uninterrupted run"
fi
[[ ! -e $tmp/ckpt/demo ]] || fail "the job directory was not removed after exit 0"
echo "    OK: job directory removed after exit 0"
