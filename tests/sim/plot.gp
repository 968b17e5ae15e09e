# SPDX-License-Identifier: GPL-2.0
# Plots of the simulator's 2-VM overcommit series (sim-overcommit.csv).
# Called by scripts/bench-sim.sh with -e "dir='...'; stamp='...'".
set datafile separator ','
set terminal pngcairo size 900,560 font 'sans,11'
set key bottom center box opaque
set grid
set xlabel 'overcommit (vCPUs per pCPU), 2 VMs on 120 pCPUs'
set xrange [0.4:4.1]
set bmargin 5
set label 1 stamp at screen 0.01,0.02 font 'sans,8'
csv = dir . '/sim-overcommit.csv'
styles = 'stock qsplus ecs pvlock oracle'
names = "'stock 6.12' 'qspinlock+' 'eCS-like' 'pvlock' 'oracle (no LHP)'"
set style line 1 lc rgb '#444444' lw 2 pt 7
set style line 2 lc rgb '#e69f00' lw 2 pt 5
set style line 3 lc rgb '#56b4e9' lw 2 pt 9
set style line 4 lc rgb '#d7191c' lw 3 pt 11
set style line 5 lc rgb '#009e73' lw 2 dt 2 pt 13

set output dir . '/sim-throughput.png'
set title 'Lock throughput vs overcommit (higher is better)'
set ylabel 'critical sections per second, both VMs (millions)'
set yrange [0:*]
plot for [i=1:5] csv using 1:(column(1 + i)) skip 1 with linespoints ls i title word(names, i)

set output dir . '/sim-spin.png'
set key top left box opaque
set title 'pCPU time wasted spinning in the lock slow path (lower is better)'
set ylabel 'share of all pCPU time (%)'
set yrange [0:*]
plot for [i=1:5] csv using 1:(column(6 + i)) skip 1 with linespoints ls i title word(names, i)

set output dir . '/sim-lhp.png'
set title 'Lock-holder and spinning-waiter preemptions (lower is better)'
set ylabel 'preemptions per ms (log scale; oracle: none)'
set logscale y
set yrange [0.01:*]
plot for [i=1:4] csv using 1:(column(11 + i) > 0 ? column(11 + i) : NaN) skip 1 \
	with linespoints ls i title word(names, i)
