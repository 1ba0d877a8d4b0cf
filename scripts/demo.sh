#!/usr/bin/env bash
# The README's main command: segment Colin27 (MRIcron's ch2.nii.gz, 181×217×181 T1) with SAM 2.1
# hiera-t and evaluate against its hand-drawn AAL labels — left hippocampus (37) and left thalamus
# (77) — with a box on each structure's key axial slice, propagated forward and backward
# (MedSAM2's 3-D protocol). Prints the report table; report.md, report.json and overlay PNGs go to
# out/colin27-report, the predicted labels to out/colin27-pred.nii.gz.
#
# The weights are synthetic (deterministic, real hiera-t shapes, meaningless masks) unless
# WEIGHTS points at real converted ones (`sam2-webgpu convert sam2.1_hiera_tiny.pt ...`), so the
# timings are real and the Dice scores are not.
#
# Environment:
#   WEIGHTS     weights file (default out/sam2.1_hiera_t512-synthetic.safetensors, made if missing)
#   STRUCTURES  AAL label values (default 37,77; see aal.nii.txt)
#   MAX_SLICES  slices tracked in each direction from the key slice (default 12, which covers the
#               thalamus and most of the hippocampus; "all" propagates to the volume's ends —
#               on a CPU-only software GPU that takes a long while)
# Extra arguments are passed to `sam2-webgpu eval` (e.g. --prompt clicks:3 --largest-component).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=out
MRICRON=/usr/share/mricron/templates
WEIGHTS=${WEIGHTS:-$OUT/sam2.1_hiera_t512-synthetic.safetensors}
STRUCTURES=${STRUCTURES:-37,77}
MAX_SLICES=${MAX_SLICES:-12}

for f in ch2.nii.gz aal.nii.gz aal.nii.txt; do
  if [ ! -f "$MRICRON/$f" ]; then
    echo "demo: $MRICRON/$f is missing; install Debian's mricron-data (apt-get install mricron-data)" >&2
    exit 1
  fi
done

# `npx sam2-webgpu` runs the compiled CLI; `npm ci` builds it (prepare script), this covers a
# checkout where only `npm install --ignore-scripts` ran.
if [ ! -f dist/src/cli/run.js ]; then
  echo "demo: building the package (npm run build)" >&2
  npm run --silent build >&2
fi

mkdir -p "$OUT"
if [ ! -f "$WEIGHTS" ]; then
  echo "demo: writing synthetic SAM 2.1 hiera-t weights (512 px) to $WEIGHTS" >&2
  npx --no-install sam2-webgpu synth --arch sam2.1_hiera_t --image-size 512 --out "$WEIGHTS" >&2
fi

limit=()
if [ "$MAX_SLICES" != "all" ]; then limit=(--max-slices "$MAX_SLICES"); fi

exec npx --no-install sam2-webgpu eval "$MRICRON/ch2.nii.gz" \
  --labels "$MRICRON/aal.nii.gz" --names "$MRICRON/aal.nii.txt" \
  --weights "$WEIGHTS" --structures "$STRUCTURES" \
  --axis axial --prompt box --direction both "${limit[@]}" \
  --report-dir "$OUT/colin27-report" --out "$OUT/colin27-pred.nii.gz" --force "$@"
