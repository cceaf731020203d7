#!/usr/bin/env bash
# bench.sh: `make bench`. Runs every experiments/mk/bench-*.sh part in name order (or those whose
# name contains $BENCH) and collects their tables; results go to results/bench/.
#
# Benchmarks unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (set on these machines for old
# OpenBLAS builds) for both sides of every comparison, in their own commands; tests and CI
# keep them. Each part prints a table of ratios measured side by side in the same run.
set -u
cd "$(dirname "$0")/../.."
export ASFT_BIN=${ASFT_BIN:-build/bin}
mkdir -p results/bench
echo "bench: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for every benchmark command"
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
status=0 ran=0
for part in experiments/mk/bench-*.sh; do
	[ -e "$part" ] || continue
	case "${part##*/}" in *"${BENCH:-}"*) ;; *) continue ;; esac
	echo "== ${part##*/}"
	bash "$part" || { echo "bench: ${part##*/} failed" >&2; status=1; }
	ran=$((ran + 1))
done
[ $ran -gt 0 ] || echo "bench: no benchmark parts matched '${BENCH:-}'"
exit $status
