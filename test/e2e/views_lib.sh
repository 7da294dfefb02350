# Helpers for the views tests (test/e2e/test_views*.sh), sourced after
# lib.sh.  Not a test itself.  The numbers mirror the comment at the top of
# test/targets/views/views.c; the JSON, CSV and SVG checks are in
# test/e2e/views_check.py (python3, standard library only).

VIEWS_SRC=$SRCDIR/views/views.c
VIEWS_VARIANTS="O0-pie O2-pie O2-nopie-cet"
VIEWS_PY=$E2E_DIR/views_check.py

# views_line FUNC: FUNC's declaration line in views.c.
views_line() { decl_line "$VIEWS_SRC" "$1"; }
# views_key FUNC: the table key; views_loc FUNC: "file:line" (tree, SVG).
views_key() { printf '%s:%s:%s' "$VIEWS_SRC" "$(views_line "$1")" "$1"; }
views_loc() { printf '%s:%s' "$VIEWS_SRC" "$(views_line "$1")"; }

# The exact functions: NAME PAGES CALLS TOTAL SELF PEAK (pages of 4096).
VIEWS_TABLE="sometimes 3 3 9 3 1
spike 4 1 1 4 12
poll_loop 5 1 1 2 5
alloc_small 10 1 1 2 10
alloc_big 21 1 1 1 21
leaf 28 3 3 28 20
run 42 1 1 2 50"
VIEWS_EXACT="sometimes spike poll_loop alloc_small alloc_big leaf run"
VIEWS_INEXACT="setup main"

# The exact call paths: STACK PAGES CALLS TOTAL SELF PEAK.
VIEWS_PATH_TABLE="main;run 42 1 1 2 50
main;run;poll_loop 5 1 1 2 5
main;run;poll_loop;sometimes 3 3 9 3 1
main;run;alloc_small 10 1 1 2 10
main;run;alloc_small;leaf 8 2 2 8 5
main;run;alloc_big 21 1 1 1 21
main;run;alloc_big;leaf 20 1 1 20 20
main;run;spike 4 1 1 4 12"

# For views_check.py --expect: the same, with each function's line.
VIEWS_FUNCS=$(while read -r f rest; do echo "$f $rest $(views_line "$f")"; done <<<"$VIEWS_TABLE")
export VIEWS_SRC VIEWS_FUNCS
export VIEWS_PATHS="$VIEWS_PATH_TABLE"

# views_expect FUNC FIELD: FIELD (pages calls total self peak) of FUNC.
views_expect() {
	local f p c t s k
	while read -r f p c t s k; do
		[ "$f" = "$1" ] || continue
		case $2 in
		pages) echo "$p" ;; calls) echo "$c" ;; total) echo "$t" ;;
		self) echo "$s" ;; peak) echo "$k" ;;
		esac
		return
	done <<<"$VIEWS_TABLE"
}

# mb4 PAGES: "%.4g" of PAGES in MB (the flame graph and the timeline).
mb4() { awk -v p="$1" 'BEGIN { printf "%.4g", p * 4096 / 1048576 }'; }

# ------------------------------------------------------- the --columns table

# col_header LIST: the header for the columns in LIST (any of self, peak,
# total); col_dashes LIST: dashes as long.
col_header() {
	local h='Memory (MB)   Calls'
	case ",$1," in *,self,*) h="$h   Self (MB)" ;; esac
	case ",$1," in *,peak,*) h="$h   Peak (MB)" ;; esac
	case ",$1," in *,total,*) h="$h    Total" ;; esac
	printf '%s  File:Line:Function' "$h"
}
col_dashes() { local h; h=$(col_header "$1"); printf '%*s' ${#h} '' | tr ' ' -; }

# col_row LIST FUNC: the exact row of a views function with those columns.
col_row() {
	local r
	r=$(printf '%s  %7d' "$(mb_field "$(views_expect "$2" pages)")" "$(views_expect "$2" calls)")
	case ",$1," in *,self,*) r="$r  $(mb_field "$(views_expect "$2" self)")" ;; esac
	case ",$1," in *,peak,*) r="$r  $(mb_field "$(views_expect "$2" peak)")" ;; esac
	case ",$1," in *,total,*) r="$r  $(printf '%7d' "$(views_expect "$2" total)")" ;; esac
	printf '%s  %s' "$r" "$(views_key "$2")"
}

# expect_framed FILE HEADER DASHES: FILE is HEADER, DASHES, rows, DASHES,
# HEADER and nothing else; sets FRAMED_ROWS (the rows, as a file).
FRAMED_ROWS=$WORK/framed.rows
expect_framed() {
	local n
	n=$(awk 'END { print NR }' "$1")
	: >"$FRAMED_ROWS"
	if [ "$n" -lt 5 ] || [ "$(sed -n 1p "$1")" != "$2" ] || [ "$(sed -n 2p "$1")" != "$3" ] ||
		[ "$(sed -n "$((n - 1))p" "$1")" != "$3" ] || [ "$(sed -n "${n}p" "$1")" != "$2" ]; then
		fail "not framed by '$2' and $((${#3})) dashes"
		note_file "$1"
		return 1
	fi
	sed -n "3,$((n - 2))p" "$1" >"$FRAMED_ROWS"
}

# expect_line FILE LINE [WHAT]: LINE is a whole line of FILE, exactly once.
expect_line() {
	local n
	n=$(grep -c -F -x -- "$2" "$1")
	[ "$n" -eq 1 ] || fail "${3:-line} '$2' found $n times"
}

# ---------------------------------------------------------------- utilities

# expect_same FILE_WANT FILE_GOT WHAT: byte for byte.
expect_same() {
	if [ ! -e "$2" ]; then
		fail "$3: $2 was not written"
	elif ! cmp -s "$1" "$2"; then
		fail "$3 differs"
		note "$(diff "$1" "$2" | head -n 12)"
	fi
}

# need_python: python3 is there, or the case fails saying how to get it.
need_python() {
	command -v python3 >/dev/null 2>&1 && return 0
	fail "python3 is missing: run 'make deps' (as root)"
	return 1
}

# views_py COMMAND ARGS...: views_check.py; each line it prints is a
# failure of the current case.  Returns its exit status.
views_py() {
	local rc l n=0
	python3 "$VIEWS_PY" "$@" >"$WORK/py.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		while IFS= read -r l && [ $n -lt 8 ]; do
			fail "$l"
			n=$((n + 1))
		done <"$WORK/py.out"
		[ -s "$WORK/py.out" ] || fail "views_check.py $1: exit status $rc"
	fi
	return $rc
}

# run_report ARGS...: iprofmem report ARGS (no program, but run_ip's checks).
run_report() { run_ip report "$@"; }

# expect_quiet_ok: exit 0 and nothing on stdout or stderr.
expect_quiet_ok() {
	expect_exit 0
	if [ -s "$OUT" ] || [ -s "$ERR" ]; then
		fail "output on stdout/stderr: '$(head -c 100 "$OUT" "$ERR" | tr '\n' '|')'"
	fi
}
