#!/usr/bin/env bash
# Stage "checksum": records the SHA-256 of every file of a tile.
# argv (MouseLight's contract): src_path dst_path relative_path tile_name [task arguments...]
set -euo pipefail
src_path=$1 dst_path=$2 relative_path=$3
in_dir="$src_path/$relative_path"
out_dir="$dst_path/$relative_path"
[ -e "$in_dir" ] || { echo "tile $in_dir does not exist" >&2; exit 2; }
mkdir -p "$out_dir"
if [ -d "$in_dir" ]; then
  (cd "$in_dir" && find . -maxdepth 1 -type f -print0 | sort -z | xargs -0 -r sha256sum) > "$out_dir/checksum.sha256"
else
  sha256sum "$in_dir" > "$out_dir/checksum.sha256"
fi
echo "checksummed $relative_path"
