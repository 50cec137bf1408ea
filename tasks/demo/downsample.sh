#!/usr/bin/env bash
# Stage "downsample": writes a copy of each tile file keeping one byte in FACTOR (default 4).
# argv: src_path dst_path relative_path tile_name acquisition_root [factor]
set -euo pipefail
relative_path=$3 acquisition_root=$5 factor=${6:-4}
dst_path=$2
in_dir="$acquisition_root/$relative_path"
out_dir="$dst_path/$relative_path"
mkdir -p "$out_dir"
python3 - "$in_dir" "$out_dir" "$factor" <<'PY'
import os, sys
src, dst, factor = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = [src] if os.path.isfile(src) else [os.path.join(src, f) for f in sorted(os.listdir(src))]
for f in files:
    if not os.path.isfile(f):
        continue
    with open(f, "rb") as i:
        data = i.read()
    with open(os.path.join(dst, os.path.basename(f) + ".ds"), "wb") as o:
        o.write(data[::factor])
PY
echo "downsampled $relative_path by $factor"
