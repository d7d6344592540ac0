#!/usr/bin/env python3
"""small_files.py ROOT N: N files of 0-12 KiB of random bytes (seeded: the
same tree every time) under ROOT, in 100 directories two levels deep
(gNN/dNNN/fNNNNN.dat). The small files of cli_shards.sh and bench/shards.sh."""
import os
import random
import sys


def main():
    root, n = sys.argv[1], int(sys.argv[2])
    rng = random.Random(22)
    for i in range(n):
        d = os.path.join(root, "g%02d" % (i % 10), "d%03d" % (i % 100))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%05d.dat" % i), "wb") as f:
            f.write(rng.randbytes(rng.randrange(0, 12 * 1024)))


if __name__ == "__main__":
    main()
