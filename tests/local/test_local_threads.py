"""Several threads may bake at once (a2f infer --jobs, bake.py --jobs, a2f serve): each must get the
same curves it would get alone, and the process must survive (shared pocketsphinx decoders crash it)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from local_helpers import Fixture

from a2f_core import backends
from a2f_core.config import RunConfig


def test_parallel_threads_give_the_same_curves_as_one_at_a_time():
    fx = [Fixture("bob_movie"), Fixture("father_palm")]
    backend = backends.get("local", workers=1)
    assert backend.capabilities.parallel
    jobs = [(f, t) for f in fx for t in (f.transcript, None)]
    alone = [backend.infer(f.audio, RunConfig(), transcript=t).weights for f, t in jobs]
    for _round in range(3):  # one round can pass by luck with a shared decoder; three did not
        with ThreadPoolExecutor(len(jobs)) as pool:
            together = list(pool.map(lambda j: backend.infer(j[0].audio, RunConfig(), transcript=j[1]).weights, jobs))
        for a, b in zip(alone, together):
            np.testing.assert_array_equal(a, b)
