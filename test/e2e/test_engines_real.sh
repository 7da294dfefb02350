#!/usr/bin/env bash
# Issue 11: byte-identical tables between --engine=int3 and the default
# engine on real programs built from source with -O2 -g
# (test/e2e/real_programs.sh: Lua 5.4 and zlib's minigzip, from Debian's
# source packages; and lz4 built -O3 for AVX-512, where the CPU has it:
# before its EVEX instructions were decoded, it died of SIGSEGV under
# either engine), every function of the executable traced, under
# `setarch -R` on one CPU (engines_lib.sh); the programs' stdout and exit
# status are the untraced ones.  Workloads small enough for the int3
# engine: about 80,000 traced calls of lua, 40,000 of minigzip, 150 of lz4.
#
# SKIP lines: until the probe engine lands (no --engine in --help), and
# for a program that cannot be fetched or built here (the reason given).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/engines_lib.sh"

CASES_lua="work.lua 200 records|work.lua 200 records, --tree"
CASES_minigzip="compress|compress -9|decompress"
CASES_lz4="compress|compress -9|decompress"

skip_all() { # PROGRAM REASON
	local c var=CASES_$1
	IFS='|' read -r -a c <<<"${!var}"
	for c in "${c[@]}"; do echo "SKIP ${TAG}engines real: $1 $c: $2"; done
}

if [ $HAS_ENGINE = 0 ]; then
	skip_all lua "$ENGINE_SKIP"
	skip_all minigzip "$ENGINE_SKIP"
	skip_all lz4 "$ENGINE_SKIP"
	exit 0
fi

# lz4's build runs only on a CPU with x86-64-v4's AVX-512 subsets.
PROGS="lua minigzip"
v4=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -cxE 'avx512(f|bw|cd|dq|vl)')
if [ "$v4" = 5 ]; then
	PROGS+=" lz4"
else
	skip_all lz4 "this CPU lacks AVX-512 (x86-64-v4), which the lz4 build is for"
fi

# The programs, built once and cached under build/real.
declare -A BIN=()
while read -r name rest; do
	case $rest in
	/*) BIN[$name]=$rest ;;
	*) skip_all "$name" "${rest#unavailable: }" ;;
	esac
done < <(nice "$E2E_DIR/real_programs.sh" $PROGS 2>&1)

# The programs' files and their libraries stay in the page cache, locked,
# while the cases run (hold_files.py: this VM's DAMON evicts idle file
# pages, and an evicted code page moves a page from one row to another).
HOLDER=
hold_files() { # FILE...: the files and the libraries they load
	python3 "$E2E_DIR/hold_files.py" --libs "$@" >"$WORK/held" 2>&1 </dev/null &
	HOLDER=$!
	for _ in $(seq 100); do grep -q '^held' "$WORK/held" && break; sleep 0.1; done
	echo "# files kept in the page cache: $(grep '^held' "$WORK/held" || echo "no: $(head -n 1 "$WORK/held")")"
}
trap '[ -z "$HOLDER" ] || kill "$HOLDER" 2>/dev/null; lib_cleanup' EXIT

# The program and its script run from paths of the same length whatever
# the checkout's (and with a fixed environment, engines_lib.sh): where the
# stack starts, so which calls first touch a stack page, is the same.
HOLD=()
if [ -n "${BIN[lua]-}" ] && mkdir -p "$WORK/r" &&
	cp "${BIN[lua]}" "$TOP/test/e2e/real/work.lua" "$WORK/r/"; then
	HOLD+=("$WORK/r/lua")
else
	unset 'BIN[lua]'
fi
for p in minigzip lz4; do
	[ -z "${BIN[$p]-}" ] || HOLD+=("${BIN[$p]}")
done
[ ${#HOLD[@]} -eq 0 ] || hold_files "${HOLD[@]}"

if [ -n "${BIN[lua]-}" ]; then
	L=$WORK/r/work.lua
	engines_case "engines real: lua work.lua 200 records" -- "$WORK/r/lua" "$L" 200 "$MARK"
	engines_case "engines real: lua work.lua 200 records, --tree" --tree -- "$WORK/r/lua" "$L" 200 "$MARK"
fi

# 540 KB of text that compresses well but not trivially
IN=$WORK/input.txt
awk 'BEGIN { for (i = 1; i <= 20000; i++) printf "line %d %d of the input\n", i, (i * 7919) % 1000 }' >"$IN"

# compressor_cases NAME: compress, compress -9, decompress, stdin to stdout
compressor_cases() {
	local bin=${BIN[$1]}
	ENGINES_IN=$IN
	engines_case "engines real: $1 compress" -- "$bin" -c
	engines_case "engines real: $1 compress -9" -- "$bin" -9 -c
	"$bin" -c <"$IN" >"$WORK/input.$1"
	ENGINES_IN=$WORK/input.$1
	engines_case "engines real: $1 decompress" -- "$bin" -d -c
	ENGINES_IN=/dev/null
}

for p in minigzip lz4; do
	[ -z "${BIN[$p]-}" ] || compressor_cases $p
done

[ $N_FAILED -eq 0 ]
