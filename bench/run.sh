#!/usr/bin/env bash
# `npm run bench [NAME...]`: the benchmarks under bench/, each reporting against a baseline measured in the same run.
# Names: pipeline discovery slurm tilemap (default: all). Results go to bench/results/*.json.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
bash scripts/setup.sh
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(pipeline discovery slurm tilemap)
for name in "${names[@]}"; do
  file="bench/$name.ts"
  [[ -f "$file" ]] || die "no benchmark $file"
  log "benchmark: $name"
  node --expose-gc --import tsx "$file"
done
