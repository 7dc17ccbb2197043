"""Session-wide test environment.

One OpenMP/MKL thread per process, set before torch or tblite is imported here or in any
process the tests start (Celery workers, the standalone server inherit the environment).
The tests run several processes at once — the test process, workers, a browser — on a
machine with few cores; with each process spinning two OpenMP threads, they oversubscribe
the cores and a 12,000-step MD test ran 10x slower (554 s against 46 s measured). A user's
own setting wins (``setdefault``).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
