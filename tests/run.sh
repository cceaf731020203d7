#!/usr/bin/env bash
# run.sh BUILD [FILTER]: runs BUILD/tests/test_* and tests/t_*.sh (names containing FILTER),
# each of which ends with "N passed, M failed"; prints one line per program and, last, the sum.
# A program that crashes or exits non-zero without reporting a failure counts one failure.
set -u
build=$1 filter=${2:-}
total_pass=0 total_fail=0 progs=0
log=$(mktemp); trap 'rm -f "$log"' EXIT
for t in "$build"/tests/test_* tests/t_*.sh; do
	[ -e "$t" ] || continue
	name=${t##*/}
	case "$name" in *"$filter"*) ;; *) continue ;; esac
	progs=$((progs + 1))
	start=$EPOCHREALTIME
	if [ "${t%.sh}" != "$t" ]; then bash "$t" >"$log" 2>&1; else "$t" >"$log" 2>&1; fi
	rc=$?
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	p=0 f=0
	if [ -n "$line" ]; then
		p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	fi
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$name: exit status $rc without a reported failure" >>"$log"; fi
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
	if [ "$f" -eq 0 ]; then
		printf '  ok    %-28s %5d checks  %6.2fs\n' "$name" "$p" "$secs"
	else
		printf '  FAIL  %-28s %5d ok, %d failed\n' "$name" "$p" "$f"
		grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 40 | sed 's/^/        /'
	fi
done
[ $progs -gt 0 ] || { echo "no test programs matched '$filter'"; total_fail=1; }
echo "$total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ]
