# t_h5.sh: asft-h5 end to end on the demo surface file test_h5store writes (a 3x5 non-square
# grid with coordinates and one NaN point, a done mask, a 1-D series, a 3-D dataset, attributes):
# exact export text in every layout, what gnuplot makes of it, ls and attrs, and each error exit.
source tests/lib.sh
H5=$BIN/asft-h5
F=$T/demo.h5
check_ok "${ASFT_BUILD:-build}/tests/test_h5store" --write-demo "$F"

# 2-D as a gnuplot matrix: row = y (3 rows), column = x (5 columns); NaN as "nan"
check_ok "$H5" export "$F" /harmful_score
check_eq "$(cat "$T/.out")" "$(printf '0.5\t1.5\t2.5\t3.5\t4.5\n10.5\t11.5\tnan\t13.5\t14.5\n20.5\t21.5\t22.5\t23.5\t24.5')" "matrix export"

# --xyz: x from /xcoordinates (5), y from /ycoordinates (3), blank line after each row
check_ok "$H5" export "$F" /harmful_score --xyz
expect=""
ys=(-0.25 0 0.25) xs=(-1 -0.5 0 0.5 1)
for r in 0 1 2; do
	for c in 0 1 2 3 4; do
		v="$((r * 10 + c)).5"
		[ $r -eq 1 ] && [ $c -eq 2 ] && v=nan
		expect+="${xs[$c]}"$'\t'"${ys[$r]}"$'\t'"$v"$'\n'
	done
	expect+=$'\n'
done
check_eq "$(cat "$T/.out"; echo x)" "${expect}x" "xyz export"
check_eq "$(wc -l <"$T/.out")" 18 "xyz line count (15 points + 3 blank)"

# gnuplot reads both layouts and sees the NaN point as missing
check_ok gnuplot -e "stats '< $H5 export $F /harmful_score --xyz' using 3 nooutput; print STATS_records, STATS_invalid, STATS_sum"
check_eq "$(tr -d '\r' <"$T/.err")" "14 1 175.0" "gnuplot stats on --xyz"
check_ok gnuplot -e "stats '< $H5 export $F /harmful_score' matrix nooutput; print STATS_records, STATS_max"
check_eq "$(grep -v warning "$T/.err")" "14 24.5" "gnuplot stats on matrix"

# the done mask is an integer matrix
check_ok "$H5" export "$F" /done
check_eq "$(cat "$T/.out")" "$(printf '1\t1\t1\t1\t1\n1\t1\t0\t1\t1\n1\t1\t1\t1\t1')" "done mask"

# 1-D: index value, or x value when /xcoordinates has the same length; --precision
check_ok "$H5" export "$F" /train/loss
check_eq "$(cat "$T/.out")" "$(printf '0\t2.5\n1\t2.25\n2\tnan\n3\t0.333333333')" "series export"
check_ok "$H5" export "$F" /train/loss --precision 4
check_eq "$(sed -n 4p "$T/.out")" "$(printf '3\t0.3333')" "--precision 4"
check_ok "$H5" export "$F" /train/loss --precision=17
check_eq "$(sed -n 4p "$T/.out")" "$(printf '3\t0.33333333333333331')" "--precision 17"
check_ok "$H5" export "$F" /line
check_eq "$(cat "$T/.out")" "$(printf -- '-1\t0.1\n-0.5\t0.2\n0\t0.3\n0.5\t0.4\n1\t0.5')" "1-D with xcoordinates"

# scalar; a 2-D dataset the root coordinates do not fit (2x4) gets indices in --xyz, with a warning
check_ok "$H5" export "$F" /n_points
check_eq "$(cat "$T/.out")" "14" "scalar export"
check_ok "$H5" export "$F" /delta/model.layers.0.mlp.up_proj.weight --xyz
check_eq "$(sed -n '1p;2p;5p;6p' "$T/.out")" "$(printf '0\t0\t0\n1\t0\t0\n\n0\t1\t0')" "--xyz with indices"
check_eq "$(grep -c 'using indices' "$T/.err")" 2 "warns that the coordinates do not fit"
check_ok "$H5" export "$F" /delta/model.layers.0.mlp.up_proj.weight
check_eq "$(sed -n 1p "$T/.out")" "$(printf '0\t0\t0\t0')" "dotted name export"

# ls: tree with shapes, types, storage and attributes
check_ok "$H5" ls "$F"
ls_out=$(cat "$T/.out")
check_eq "$(grep -c '' <<<"$ls_out" | awk '$1 > 30')" "$(grep -c '' <<<"$ls_out")" "ls is long enough"
check_eq "$(grep -F '/harmful_score  f64 [3 x 5]' <<<"$ls_out" | wc -l)" 1 "ls shows the surface shape"
check_eq "$(grep -F '/done  u8 [3 x 5]' <<<"$ls_out" | wc -l)" 1 "ls shows the mask type"
check_eq "$(grep -F '/train/loss  f64 [4]  extendible  chunked+shuffle+deflate' <<<"$ls_out" | wc -l)" 1 "ls shows the series storage"
check_eq "$(grep -F '/n_points  f64 scalar' <<<"$ls_out" | wc -l)" 1 "ls shows a scalar"
check_eq "$(grep -F '/delta/model.layers.0.mlp.up_proj.weight  f32 [2 x 4]' <<<"$ls_out" | wc -l)" 1 "ls dotted name"
check_eq "$(grep -F '@threshold = 0.5' <<<"$ls_out" | wc -l)" 1 "ls shows attributes"
check_eq "$(grep -F '@tool = test_h5store' <<<"$ls_out" | wc -l)" 1 "ls shows provenance"
check_eq "$(grep -cE '@openblas = .{64}\.\.\. \([0-9]+ bytes\)$' <<<"$ls_out")" 1 "ls cuts long values"
check_ok "$H5" ls "$F" --width 0
check_eq "$(grep -c '\.\.\. (' "$T/.out")" 0 "--width 0 does not cut"

# attrs of the root and of a path
check_ok "$H5" attrs "$F"
check_eq "$(cat "$T/.out")" "$(printf 'cosines = [1, -0.125]\ngrid_points = 15\ntitle = demo surface')" "root attrs"
check_ok "$H5" attrs "$F" /provenance
check_eq "$(grep -c '' "$T/.out")" 11 "provenance attribute count"
check_eq "$(grep '^config = ' "$T/.out")" 'config = {"demo":true}' "provenance config"
check_eq "$(grep '^seed = ' "$T/.out")" 'seed = 42' "provenance seed"
check_eq "$(grep -cE '^created = [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$T/.out")" 1 "created is ISO 8601 UTC"
check_ok "$H5" attrs "$F" /harmful_score
check_eq "$(cat "$T/.out")" "$(printf 'description = harmful score\nthreshold = 0.5')" "dataset attrs"

# errors: one line, non-zero exit
printf 'not hdf5\n' >"$T/text.h5"
check_fail "missing.h5: cannot open: No such file" "$H5" ls "$T/missing.h5"
check_fail "text.h5: not an HDF5 file" "$H5" export "$T/text.h5" /x
check_fail "/nope: no such dataset" "$H5" export "$F" /nope
check_fail "/cube: is 3-D; only 0-, 1- and 2-D datasets can be exported" "$H5" export "$F" /cube
check_fail "/train: is a group, not a dataset" "$H5" export "$F" /train
check_fail "--xyz needs a 2-D dataset" "$H5" export "$F" /line --xyz
check_fail "must start with '/'" "$H5" export "$F" harmful_score
check_fail "--precision must be 1..17" "$H5" export "$F" /line --precision 0
check_fail "/nowhere: no such group or dataset" "$H5" attrs "$F" /nowhere
check_fail "unknown command 'cat'" "$H5" cat "$F"
check_fail "missing command" "$H5"
check_fail "export: missing /dataset" "$H5" export "$F"
check_fail "ls: unexpected argument 'extra'" "$H5" ls "$F" extra
check_fail "unknown option '--bogus'" "$H5" ls "$F" --bogus
"$H5" export "$F" /cube >/dev/null 2>"$T/err1"
check_eq "$(wc -l <"$T/err1")" 1 "an error is one line"
check_ok "$H5" --help
check_eq "$(grep -c -- '--xyz' "$T/.out")" 2 "--help lists --xyz"
finish
