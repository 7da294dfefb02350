#!/usr/bin/env bash
# The C library's malloc, selected with -e 'libc.so.6:malloc': its DWARF
# comes from libc6-dbg (build-id), where it is __libc_malloc; the symbol
# malloc is another name of it and takes its file and line, so the key is
# malloc/malloc.c:LINE:malloc (relative: Debian's libc records a relative
# compilation directory).  sel_malloc makes 7 calls of 1 MiB, each mapping
# a new region and writing its first page: 7 pages in 7 calls, exactly.
# --list-funcs gives the same key; the executable's functions are not
# traced unless selected; the program's stdout and status are unchanged.
. "$(dirname "$0")/lib.sh"

CALLS=7
LIBC=$(realpath /usr/lib/x86_64-linux-gnu/libc.so.6 2>/dev/null)
MALLOC_KEY_RE='^malloc/malloc\.c:[1-9][0-9]*:malloc$'

# malloc_run BIN ARGS...: runs BIN under iprofmem ARGS and untraced;
# exit status and stdout compared; the table parsed.
malloc_run() {
	local bin=$1
	shift
	need_file "$bin" || return 1
	run_plain "$bin" "$MARK"
	[ "$PRC" -eq 0 ] || fail "$bin exits $PRC untraced"
	run_ip "$@" -- "$bin" "$MARK"
	expect_same_as_plain
	expect_table "$ERR"
}

# malloc_row: the one malloc row: key and exact numbers.  Sets MALLOC_ROW.
malloc_row() {
	local r n=0
	MALLOC_ROW=
	for r in "${ROWS[@]}"; do
		[[ $(row_key "$r") == *:malloc ]] || continue
		n=$((n + 1))
		MALLOC_ROW=$r
	done
	if [ $n -ne 1 ]; then
		fail "$n rows for malloc, want 1"
		note_file "$ERR"
		return 1
	fi
	[[ $(row_key "$MALLOC_ROW") =~ $MALLOC_KEY_RE ]] ||
		fail "malloc key '$(row_key "$MALLOC_ROW")', want malloc/malloc.c:LINE:malloc"
	[ "$MALLOC_ROW" = "$(row_text $CALLS $CALLS "$(row_key "$MALLOC_ROW")")" ] ||
		fail "malloc row '$MALLOC_ROW', want $CALLS pages in $CALLS calls"
}

for v in O0-pie O2-pie O2-nopie-cet O2-pie-nodebug; do
	bin=$TGT/sel_malloc.$v
	tc "libc: sel_malloc.$v -e libc.so.6:malloc: one row malloc/malloc.c:LINE:malloc, $CALLS pages in $CALLS calls"
	if malloc_run "$bin" -e 'libc.so.6:malloc'; then
		if malloc_row; then
			[ ${#ROWS[@]} -eq 1 ] || fail "${#ROWS[@]} rows, want malloc's only"
		fi
		# (no warning that the executable has no DWARF: none of its
		# functions is wanted)
		expect_only_table "$ERR"
	fi
	tc_end
done

tc "libc: the key's line is what --list-funcs says, in module $LIBC"
bin=$TGT/sel_malloc.O2-pie
if malloc_run "$bin" -e 'libc.so.6:malloc'; then
	malloc_row
	key=$(row_key "$MALLOC_ROW")
	run_ip --list-funcs -e 'libc.so.6:malloc' -- "$bin" "$MARK"
	expect_exit 0
	[ -s "$ERR" ] && { fail "stderr not empty"; note_file "$ERR"; }
	n=$(awk 'END { print NR }' "$OUT")
	[ "$n" -eq 2 ] || { fail "$n lines listed, want the header and malloc"; note_file "$OUT"; }
	line=$(sed -n 2p "$OUT")
	read -r addr rets probes module lkey <<<"$line"
	[ "$module" = "$LIBC" ] || fail "module '$module', want $LIBC"
	[ "$lkey" = "$key" ] || fail "listed key '$lkey', traced key '$key'"
	[[ $rets =~ ^[1-9][0-9]*$ ]] || fail "malloc with '$rets' return sites"
	[[ $probes =~ ^[0-9]+/$((rets + 1))$ ]] || fail "malloc's probes '$probes', not of its $((rets + 1)) sites"
	# the entry is the address of the symbol malloc in the loaded libc
	[[ $addr =~ ^0x[0-9a-f]+$ ]] || fail "entry '$addr' is not hex"
	sym=$(readelf -W --dyn-syms "$LIBC" | awk '$8 ~ /^malloc(@|$)/ && $4 == "FUNC" { print $2; exit }')
	if [ -n "$sym" ] && [[ $addr =~ ^0x[0-9a-f]+$ ]]; then
		off=$(( (addr - 0x$sym) & 0xfff ))
		[ $off -eq 0 ] || fail "entry $addr is not malloc's (symbol value 0x$sym) plus a page-aligned base"
	fi
fi
tc_end

tc "libc: malloc and the caller alloc_blocks: both exact (caller: 7 x (1 + 2) pages)"
if malloc_run "$TGT/sel_malloc.O2-pie" -e 'libc.so.6:malloc' -e alloc_blocks; then
	expect_only_table "$ERR"
	malloc_row
	expect_row "$(src_key sel_malloc alloc_blocks)" $((CALLS * 3)) 1
	[ ${#ROWS[@]} -eq 2 ] || fail "${#ROWS[@]} rows, want 2"
fi
tc_end

tc "libc: a module glob (libc.so.*:malloc) and a funcs file give the same row"
printf '# the C library\nlibc.so.*:malloc\n' >"$WORK/funcs.libc"
if malloc_run "$TGT/sel_malloc.O0-pie" --funcs="$WORK/funcs.libc"; then
	expect_only_table "$ERR"
	malloc_row
	[ ${#ROWS[@]} -eq 1 ] || fail "${#ROWS[@]} rows, want malloc's only"
fi
tc_end

[ $N_FAILED -eq 0 ]
