#!/usr/bin/env bash
# Regenerates the seed corpus of the fuzz targets (tests/fuzz/corpus/) from real files made
# by the project's own programs: runs seed_program.py under ckpt-run (two checkpoints,
# file changes of every kind, SIGKILL), then
#   corpus/image/  its images, shrunk to one page of data (fuzz_seed_tool shrink-image)
#   corpus/pct/    its PCT logs as they are
#   corpus/undo/   progress file + log, after a recovery interrupted after 1 and 3 records
# and minimizes each set with the fuzz target's -merge=1 when the targets are built.
# usage: tests/fuzz/make_corpus.sh [BUILD_DIR]   (default: build)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
tool=$build/tests/fuzz/fuzz_seed_tool
tmp=$(mktemp -d /tmp/ckpt-fuzz-seed.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/files" "$tmp/root"
set +e
"$build/bin/ckpt-run" --dir "$tmp/root" --name seed --interval 1h -- \
  /usr/bin/python3 "$here/seed_program.py" "$tmp/files"
rc=$?
set -e
[[ $rc -eq 137 ]] || { echo "make_corpus.sh: seed program ended with $rc, expected 137 (SIGKILL)" >&2; exit 1; }
job=$tmp/root/seed
out=$tmp/out
mkdir -p "$out/image" "$out/pct" "$out/undo"
for img in "$job"/ckpt-*.img; do
  "$tool" shrink-image "$img" "$out/image/$(basename "$img" .img)"
done
for log in "$job"/pct-*.log; do cp "$log" "$out/pct/$(basename "$log" .log)"; done
# Interrupted recoveries: a real progress file of the newest epoch, before its log.
for n in 1 3; do
  rm -rf "$tmp/copy" && cp -a "$job" "$tmp/copy"
  "$tool" partial-undo "$tmp/copy" $n
  for prog in "$tmp/copy"/pct-*.progress; do
    cat "$prog" "${prog%.progress}.log" >"$out/undo/$(basename "$prog" .progress)-after-$n"
  done
done
for t in image pct undo; do
  rm -rf "$here/corpus/$t" && mkdir -p "$here/corpus/$t"
  if [[ -x $build/tests/fuzz/clang/fuzz_$t ]]; then
    "$build/tests/fuzz/clang/fuzz_$t" -merge=1 "$here/corpus/$t" "$out/$t" 2>/dev/null
  else
    cp "$out/$t"/* "$here/corpus/$t/"
  fi
  echo "corpus/$t: $(ls "$here/corpus/$t" | wc -l) files, $(du -sh "$here/corpus/$t" | cut -f1)"
done
