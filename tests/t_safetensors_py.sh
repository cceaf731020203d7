#!/usr/bin/env bash
# t_safetensors_py.sh: our safetensors files checked by an independent reader written from the
# spec (tests/st_reader.py: layout, metadata, every value, BF16 rounding recomputed exactly, and
# torch's float32 -> bfloat16 when torch is installed), and a file that reader wrote read by us.
. "$(dirname "$0")/lib.sh"
B=${ASFT_BUILD:-build}/tests/test_safetensors
# Debian's python3 carries torch and numpy; any python3 runs the stdlib-only checks
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
PY="$PYTHON $(dirname "$0")/st_reader.py"

check_ok "$B" --write-for-python "$T/c"
check_ok $PY verify-c "$T/c"
grep -q '^torch: ' "$T/.out" && sed -n 's/^torch: /  torch: /p' "$T/.out"
check_ok $PY check "$T/c/f32.safetensors"
check_ok $PY check "$T/c/sharded/model-00002-of-00002.safetensors"

check_ok $PY write-py "$T/py.safetensors"
check_ok "$B" --read-from-python "$T/py.safetensors"

# the checker is not vacuous: it rejects an unsorted header and a truncated file
check_fail 'tensors not sorted by name' $PY check "$T/py.safetensors"
head -c -2 "$T/c/f32.safetensors" >"$T/cut.safetensors"
check_fail 'cover [0-9]+ of [0-9]+ data bytes' $PY check "$T/cut.safetensors"
# and so is our reader on the same truncated file
check_fail 'run past the end of the data region' "$B" --read-from-python "$T/cut.safetensors"
finish
