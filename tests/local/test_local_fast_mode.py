"""quality="fast": phone recognition only, for CPU servers (a2f serve --quality fast)."""

from __future__ import annotations

import pytest
from local_helpers import Fixture

from a2f_core import backends
from a2f_core.backends.local.evaluate import score
from a2f_core.config import RunConfig
from a2f_core.errors import BackendError


def test_fast_mode_uses_phone_recognition_and_still_moves_the_mouth():
    fx = Fixture("bob_movie")
    clip = backends.get("local", workers=1, quality="fast").infer(fx.audio, RunConfig())
    assert clip.meta["path"] == "allphone"
    jaw = clip.channel("jawOpen")
    assert jaw.max() > 0.2  # the mouth opens on the vowels
    sc = score(clip, fx.known, fx.audio.samples, fx.audio.rate)
    assert sc.open_closed <= 0.1 and sc.jaw_r > 0.5


def test_fast_mode_keeps_the_transcript_alignment():
    fx = Fixture("bob_movie")
    clip = backends.get("local", workers=1, quality="fast").infer(fx.audio, RunConfig(), transcript=fx.transcript)
    assert clip.meta["path"] == "align"


def test_unknown_quality_is_a_clear_error():
    with pytest.raises(BackendError, match="quality must be one of best, fast"):
        backends.get("local", quality="fastest")
