# The real program of bench/engines.sh: python3.11d (Debian's
# python3.11-dbg, built with -g) running this script, every function of
# the interpreter traced.  It builds dicts and lists the way ordinary
# programs do: records of a few fields, an index by key, a sort, string
# formatting, a list comprehension.  The interpreter's start-up alone
# makes about 5 million calls of its C functions, each round about 0.6
# million more; the argument is the number of rounds (default 8: about
# 10 million calls, 0.06 s untraced here).
#
# Usage: python3.11d bench/pyload.py [ROUNDS]
# Prints one checksum line, the same for every run with the same ROUNDS.
import sys


def make_record(i):
    return {"id": i, "name": "item%d" % i, "tags": [i % 3, i % 5], "w": i * 0.5}


def build(n):
    recs = [make_record(i) for i in range(n)]
    index = {}
    for r in recs:
        index.setdefault(r["tags"][0], []).append(r)
    return recs, index


def score(r):
    return len(r["name"]) + r["tags"][1] + int(r["w"])


def round_once(k):
    recs, index = build(500)
    total = 0
    for key in sorted(index):
        group = sorted(index[key], key=score)
        total += sum(score(r) for r in group[:50])
    words = " ".join(r["name"] for r in recs[k % 7::7])
    total += len(words.split())
    return total


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    check = 0
    for k in range(rounds):
        check = (check * 31 + round_once(k)) % 1000003
    print("pyload: %d rounds, checksum %d" % (rounds, check))


main()
