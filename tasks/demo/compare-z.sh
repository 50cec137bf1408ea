#!/usr/bin/env bash
# Stage "compare-z" (adjacent z): counts the bytes that differ between a downsampled tile and its z+1 neighbour.
# argv: src_path dst_path relative_path tile_name; the neighbour comes in ADJACENT_TILE_RELATIVE_PATH (empty on
# the last plane, which has no neighbour).
set -euo pipefail
src_path=$1 dst_path=$2 relative_path=$3
neighbour=${ADJACENT_TILE_RELATIVE_PATH:-}
out_dir="$dst_path/$relative_path"
mkdir -p "$out_dir"
if [ -z "$neighbour" ]; then
  echo "no z+1 neighbour" > "$out_dir/compare-z.txt"
  exit 0
fi
total=0
for f in "$src_path/$relative_path"/*.ds; do
  [ -e "$f" ] || continue
  other="$src_path/$neighbour/$(basename "$f")"
  if [ -e "$other" ]; then
    n=$(cmp -l "$f" "$other" 2>/dev/null | wc -l || true)
    total=$((total + n))
  fi
done
printf 'neighbour %s\ndiffering bytes %s\n' "$neighbour" "$total" > "$out_dir/compare-z.txt"
echo "compared $relative_path with $neighbour: $total bytes differ"
