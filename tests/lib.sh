# lib.sh: the shell side of the test harness, sourced by tests/t_*.sh.
# Each check_* counts one check; `finish` prints "N passed, M failed" and exits non-zero on failure.
# Tools are found in $ASFT_BIN (set by `make test`); scratch files go in $T, removed on exit.
set -u
pass=0 fail=0
BIN=${ASFT_BIN:-build/bin}
T=$(mktemp -d /tmp/asft-test.XXXXXX)
trap 'rm -rf "$T"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL ${BASH_SOURCE[2]##*/}:${BASH_LINENO[1]}: $*" >&2; }

# check_ok CMD...: CMD exits 0.
check_ok() { if "$@" >"$T/.out" 2>"$T/.err"; then ok; else bad "exit $? from: $* -- $(head -c 400 "$T/.err")"; fi; }
# check_fail PATTERN CMD...: CMD exits non-zero and its stderr matches the grep -E PATTERN.
check_fail() {
	local pat=$1; shift
	if "$@" >"$T/.out" 2>"$T/.err"; then bad "expected failure from: $*"; return; fi
	if grep -qE -- "$pat" "$T/.err"; then ok; else bad "stderr of '$*' lacks /$pat/: $(head -c 400 "$T/.err")"; fi
}
# check_eq GOT EXPECTED [what]
check_eq() { if [ "$1" = "$2" ]; then ok; else bad "${3:-value}: got '$1', expected '$2'"; fi; }
finish() { echo "$pass passed, $fail failed"; [ $fail -eq 0 ]; exit $?; }
