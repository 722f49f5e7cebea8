"""Madoguchi core: knowledge, Japanese understanding, matching and answers.

This package never imports an adapter or a network library, so the same answer
can be rendered for LINE, Slack or a terminal.
"""

import os as _os

# One thread for numeric work, set before numpy loads its BLAS. A question is
# a few small vector products and one encoder pass: with a BLAS thread pool
# beside the encoder's OpenMP thread, both spin for the same cores and an
# answer took 2.5 times longer on a 2-core machine. Parallelism comes from
# serving several questions at once, not from splitting one.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")
