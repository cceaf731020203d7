# basin1d.gp: a metric against alpha for several 1-D basin walks on one plot (the paper's
# narrow-safety-basin figure: HS along d_aligned stays low over a wide range, along d_harm or a
# random orthogonal direction it rises after a small step).
#
#   gnuplot -e "files='aligned.h5 harm.h5 orth0.h5'; titles='d_aligned d_harm d_orth'" \
#           -e "metric='harmful_score'; out='results/x/basin1d'" plots/basin1d.gp
#
# Variables (all optional but files): h5 (the asft-h5 binary, default 'asft-h5'), files and
# titles (space-separated, same count), metric (a dataset of the surface files, default
# harmful_score), ylabel, title, tau (draws the EPL threshold), ymin and ymax (the y range, e.g.
# -2 and 102 for percentages; default automatic), out (path without extension:
# writes out.png and out.svg). Data come from `asft-h5 export FILE /metric`, which prints
# "alpha<TAB>value" (NaN for missing points: gnuplot leaves a gap).
if (!exists("h5")) h5 = 'asft-h5'
if (!exists("titles")) titles = files
if (!exists("metric")) metric = 'harmful_score'
if (!exists("ylabel")) ylabel = metric
if (!exists("title")) title = ''
if (!exists("out")) out = 'basin1d'

set title title noenhanced
set xlabel 'alpha (step along the layer-normalised direction)'
set ylabel ylabel noenhanced
set grid
set key top center horizontal noenhanced
set datafile missing 'nan'
if (exists("ymin") && exists("ymax")) set yrange [ymin:ymax]
if (exists("tau")) set arrow 1 from graph 0, first tau to graph 1, first tau nohead dt 2 lc rgb '#888888'
if (exists("tau")) set label 1 sprintf('tau = %.3g', tau) at graph 0.01, first tau offset 0, 0.6 tc rgb '#666666'

do for [fmt in "png svg"] {
	if (fmt eq "png") {
		if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
			set terminal pngcairo size 900, 560 font 'sans,11'
		} else {
			set terminal png size 900, 560
		}
	} else {
		set terminal svg size 900, 560 font 'sans,11'
	}
	set output out.'.'.fmt
	plot for [i = 1:words(files)] '< '.h5.' export '.word(files, i).' /'.metric \
		using 1:2 with linespoints lw 2 pt 7 ps 0.8 title word(titles, i)
	unset output
}
