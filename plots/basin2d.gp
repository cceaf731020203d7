# basin2d.gp: a 2-D basin surface as a heat map with contour lines (x = alpha along the first
# direction, y = beta along the second; row = y, column = x in the file, any grid shape).
#
#   gnuplot -e "file='surface.h5'; metric='proxy_comply_share'; out='results/x/basin2d'" \
#           -e "xlabel='alpha (d_aligned)'; ylabel='beta (d_harm)'" plots/basin2d.gp
#
# Variables: h5 (the asft-h5 binary, default 'asft-h5'), file, metric (default harmful_score),
# xlabel, ylabel, cblabel, title, levels (contour levels, default '25,50,75'), out (path without
# extension: writes out.png and out.svg). Data: `asft-h5 export FILE /metric --xyz` (x, y,
# value, a blank line after each grid row; NaN = missing point, left blank).
if (!exists("h5")) h5 = 'asft-h5'
if (!exists("metric")) metric = 'harmful_score'
if (!exists("xlabel")) xlabel = 'alpha'
if (!exists("ylabel")) ylabel = 'beta'
if (!exists("cblabel")) cblabel = metric
if (!exists("title")) title = ''
if (!exists("levels")) levels = '25,50,75'
if (!exists("out")) out = 'basin2d'

src = '< '.h5.' export '.file.' /'.metric.' --xyz'
set datafile missing 'nan'

# contour lines go to a table first, then are drawn over the map
set contour base
eval 'set cntrparam levels discrete '.levels
unset surface
set table $contours
splot src using 1:2:3 with lines notitle
unset table
unset contour
set surface

set title title noenhanced
set xlabel xlabel noenhanced
set ylabel ylabel noenhanced
set cblabel cblabel noenhanced
set palette defined (0 '#1a9850', 0.5 '#fee08b', 1 '#d73027')
set key off
set size ratio -1
set xrange [*:*] noextend
set yrange [*:*] noextend

# each grid point is one cell centred on it ("with image"), contours drawn over it
do for [fmt in "png svg"] {
	if (fmt eq "png") {
		if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
			set terminal pngcairo size 820, 720 font 'sans,11'
		} else {
			set terminal png size 820, 720
		}
	} else {
		set terminal svg size 820, 720 font 'sans,11'
	}
	set output out.'.'.fmt
	plot src using 1:2:3 with image notitle, \
	     $contours using 1:2 with lines lc rgb 'black' lw 1 notitle
	unset output
}
