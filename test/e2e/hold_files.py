#!/usr/bin/env python3
# hold_files.py [--libs] FILE...: keep the files' pages in the page cache
# while the process that started this one lives (test/e2e/
# test_engines_real.sh, bench/engines.sh); --libs: and those of the
# shared libraries each file loads (as ldd lists them).
#
# Maps each file read-only and shared, and mlocks it: locked pages cannot
# be evicted, so the kernel's fault-around maps them into the traced
# program at the same faults in every run.  Without that, this VM's DAMON
# (a scheme that pages out file pages idle for 60 s, see engines_lib.sh)
# may evict one of a program's code pages between two runs, and the run
# after maps it at a later fault of its own: one page moves from one row
# to another.  When mlock is refused (RLIMIT_MEMLOCK), reads a byte of
# every page each second instead, which keeps them in use.
#
# Prints "held: mlocked, N files: NAME..." (or "held: touched, ...") once
# ready.
import ctypes
import os
import re
import subprocess
import sys
import time

PROT_READ = 1
MAP_SHARED = 1
PAGE = os.sysconf("SC_PAGE_SIZE")

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mlock.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

paths = sys.argv[1:]
if paths[:1] == ["--libs"]:
    paths = paths[1:]
    for f in list(paths):
        ldd = subprocess.run(["ldd", f], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout
        for line in ldd.splitlines():
            m = (re.search(r"=> (/\S+) ", line) or
                 re.match(r"\s*(/\S+) ", line))
            if m and m.group(1) not in paths:
                paths.append(m.group(1))

maps = []
for path in paths:
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    if size:
        addr = libc.mmap(None, size, PROT_READ, MAP_SHARED, fd, 0)
        if addr is None or addr == ctypes.c_void_p(-1).value:
            sys.exit("hold_files: cannot map %s" % path)
        maps.append((addr, size))
    os.close(fd)


def touch():
    for addr, size in maps:
        for off in range(0, size, PAGE):
            ctypes.c_char.from_address(addr + off).value


locked = all(libc.mlock(addr, size) == 0 for addr, size in maps)
touch()
print("held: %s, %d files: %s" % ("mlocked" if locked else "touched",
                                  len(paths),
                                  " ".join(os.path.basename(p) for p in paths)),
      flush=True)
parent = os.getppid()
while os.getppid() == parent:
    time.sleep(1)
    if not locked:
        touch()
