#!/usr/bin/env bash
# deps.sh: check asft's system dependencies and install the missing Debian packages.
#
#   deps.sh [--with torch|mpi]... [--write FILE]
#
# Each dependency is probed the way the build uses it (pkg-config module, header, program).
# Missing ones are installed with apt-get when we are root (apt-get update once, then one
# apt-get install); otherwise the exact sudo command is printed and we exit 1, so nothing
# half-configured is built. --write FILE records the compiler and linker flags for the Makefile
# (written to a temporary name and renamed, so an interrupted run leaves no half file).
set -u

want_torch=0 want_mpi=0 out=
while [ $# -gt 0 ]; do
	case "$1" in
	--with) shift; case "${1:-}" in torch) want_torch=1 ;; mpi) want_mpi=1 ;;
		*) echo "deps.sh: --with expects torch or mpi, got '${1:-}'" >&2; exit 2 ;; esac ;;
	--write) shift; out=${1:-} ;;
	*) echo "deps.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

missing=()
have_header() { printf '#include <%s>\n' "$1" | ${CC:-cc} $2 -E -x c - >/dev/null 2>&1; }
need() { missing+=("$1"); }

command -v pkg-config >/dev/null 2>&1 || need pkg-config
command -v python3 >/dev/null 2>&1 || need python3
command -v gnuplot >/dev/null 2>&1 || need gnuplot-nox
if command -v pkg-config >/dev/null 2>&1; then
	pkg-config --exists openblas || need libopenblas-dev
	pkg-config --exists lapacke && have_header lapacke.h "" || need liblapacke-dev
	pkg-config --exists hdf5 && have_header hdf5_hl.h "$(pkg-config --cflags hdf5)" || need libhdf5-dev
	pkg-config --exists libcjson || need libcjson-dev
	pkg-config --exists libpcre2-8 || need libpcre2-dev
else
	missing+=(libopenblas-dev liblapacke-dev libhdf5-dev libcjson-dev libpcre2-dev)
fi
if [ $want_torch = 1 ]; then
	/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1 || missing+=(python3-torch python3-numpy)
fi
if [ $want_mpi = 1 ]; then
	command -v mpicc >/dev/null 2>&1 || missing+=(libopenmpi-dev openmpi-bin)
fi

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "deps: installing ${missing[*]}" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2 || { echo "deps: apt-get update failed" >&2; exit 1; }
		apt-get install -y -qq "${missing[@]}" >&2 ||
			{ echo "deps: apt-get install ${missing[*]} failed" >&2; exit 1; }
	else
		echo "deps: missing packages; run this, then make again:" >&2
		echo "sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
fi

if [ -n "$out" ]; then
	mods="openblas lapacke hdf5 libcjson libpcre2-8"
	cflags=$(pkg-config --cflags $mods) || exit 1
	libs=$(pkg-config --libs $mods) || exit 1
	mkdir -p "$(dirname "$out")"
	{
		echo "# written by experiments/mk/deps.sh; delete to re-probe"
		echo "DEP_CFLAGS := $cflags"
		echo "DEP_LIBS := ${libs/-lhdf5 /-lhdf5_hl -lhdf5 } -lm -lpthread"
	} > "$out.tmp" && mv "$out.tmp" "$out"
fi
exit 0
