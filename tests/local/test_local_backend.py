"""The local backend as callers use it: shape, registry, params, emotions, cancel, progress, warnings."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from a2f_core import backends, process_pool
from a2f_core.audio import Audio
from a2f_core.backends import CancelToken
from a2f_core.backends.local import LocalBackend, long_audio, normalise
from a2f_core.backends.local import phones as phones_mod
from a2f_core.clip import frame_count
from a2f_core.config import EmotionKey, RunConfig
from a2f_core.errors import AudioError, BackendError, Cancelled
from a2f_core.names import ARKIT_52, EMOTIONS

SHORT = "father_palm"


def run(backend, f, **cfg):
    return backend.infer(f.audio, RunConfig(**cfg), transcript=f.transcript)


def test_registry_and_capabilities():
    b = backends.get("local")
    assert isinstance(b, LocalBackend) and b.name == "local"
    caps = b.capabilities
    assert caps.label == "Bundled CPU" and caps.accepts_transcript and caps.parallel and not caps.needs_network
    # it says which face parameters it applies; the face mask, tongue offsets and emotion contrast are not
    assert {"lowerFaceStrength", "lipOpenOffset", "blinkStrength", "emotion_strength"} <= caps.parameters
    assert not {"faceMaskLevel", "tongueHeightOffset", "emotion_contrast"} & caps.parameters
    assert b.availability().ok, b.availability().reason
    with pytest.raises(BackendError, match="workers"):
        LocalBackend(workers=0)


@pytest.mark.parametrize("with_transcript", [True, False])
def test_60fps_52_arkit_channels_cover_the_audio(with_transcript, clip_of, fixtures):
    f = fixtures["bob_movie"]
    clip = clip_of("bob_movie", with_transcript)
    assert clip.fps == 60
    assert clip.names == list(ARKIT_52)
    assert clip.n_frames == frame_count(f.audio.duration, 60)
    assert np.allclose(np.diff(clip.times), 1 / 60)
    assert clip.times[0] == 0 and clip.times[-1] <= f.audio.duration < clip.times[-1] + 1 / 60
    assert np.all(np.isfinite(clip.weights)) and clip.weights.min() >= 0 and clip.weights.max() <= 1
    for track in (clip.input_emotions, clip.output_emotions):
        assert track is not None and track.names == list(EMOTIONS) and len(track.times) == clip.n_frames


def test_any_sample_rate_gives_the_same_timing(backend, fixtures):
    """A 44.1 kHz stereo-made-mono copy gives the same frame count and closures at the same frames."""
    f = fixtures[SHORT]
    hi = f.audio.resampled(44100)
    a = backend.infer(hi, RunConfig(), transcript=f.transcript)
    b = backend.infer(f.audio, RunConfig(), transcript=f.transcript)
    assert a.n_frames == b.n_frames
    assert np.abs(a.channel("jawOpen") - b.channel("jawOpen")).max() < 0.1


def test_deterministic(backend, fixtures):
    f = fixtures[SHORT]
    a = backend.infer(f.audio, RunConfig(), transcript=None)
    backend.infer(fixtures["zorblax"].audio, RunConfig())  # decoder state must not leak into the next run
    b = backend.infer(f.audio, RunConfig(), transcript=None)
    assert np.array_equal(a.weights, b.weights)
    assert a.meta["text"] == b.meta["text"]


def test_blinks_and_eye_motion_present_and_controlled(backend, fixtures):
    f = fixtures["bob_movie"]
    clip = run(backend, f)
    assert clip.channel("eyeBlinkLeft").max() >= 0.9  # at least one full blink in 4 s
    assert clip.channel("eyeLookOutLeft").max() + clip.channel("eyeLookInLeft").max() > 0.02
    assert clip.channel("browInnerUp").max() > 0.05
    no_blink = run(backend, f, face_params={"blinkStrength": 0.0, "eyelidOpenOffset": 0.06})
    assert no_blink.channel("eyeBlinkLeft").max() == 0.0
    calm = run(backend, f, face_params={"upperFaceStrength": 0.0})
    for n in ("browInnerUp", "eyeLookOutLeft", "eyeBlinkRight"):
        assert calm.channel(n).max() == 0.0, n
    assert np.array_equal(calm.channel("jawOpen"), clip.channel("jawOpen"))


def test_lower_face_strength_scales_the_mouth(backend, fixtures):
    f = fixtures[SHORT]
    full = run(backend, f)
    half = run(backend, f, face_params={"lowerFaceStrength": 0.65})  # half the SDK default 1.3
    ratio = half.channel("jawOpen").max() / full.channel("jawOpen").max()
    assert ratio == pytest.approx(0.5, abs=0.05)
    assert np.array_equal(half.channel("eyeBlinkLeft"), full.channel("eyeBlinkLeft"))


def test_smoothing_and_lip_offset(backend, fixtures):
    f = fixtures[SHORT]
    base = run(backend, f)
    smooth = run(backend, f, face_params={"lowerFaceSmoothing": 0.05})
    assert np.abs(np.diff(smooth.channel("mouthPucker"))).max() < np.abs(np.diff(base.channel("mouthPucker"))).max()
    parted = run(backend, f, face_params={"lipOpenOffset": 0.1})
    assert parted.channel("mouthLowerDownLeft").mean() > base.channel("mouthLowerDownLeft").mean() + 0.1


def test_blendshape_multipliers_offsets_and_clamp(backend, fixtures):
    f = fixtures[SHORT]
    base = run(backend, f)
    clip = run(backend, f, bs_multipliers={"JawOpen": 0.0, "MouthPucker": 2.0}, bs_offsets={"BrowDownLeft": 0.25})
    assert clip.channel("jawOpen").max() == 0.0
    assert np.allclose(clip.channel("mouthPucker"), 2 * base.channel("mouthPucker"), atol=1e-6)
    assert np.allclose(clip.channel("browDownLeft"), base.channel("browDownLeft") + 0.25, atol=1e-6)
    clamped = run(backend, f, bs_multipliers={"MouthPucker": 3.0}, enable_clamping_bs_weight=True)
    assert clamped.channel("mouthPucker").max() <= 1.0


def test_emotion_presets_shape_the_face(backend, fixtures):
    f = fixtures[SHORT]
    neutral = run(backend, f)
    joy = run(backend, f, beginning_emotion={"joy": 1.0})
    sad = run(backend, f, beginning_emotion={"sadness": 1.0})

    def gain(c, *names):
        return float(np.mean([c.channel(n).mean() - neutral.channel(n).mean() for n in names]))

    assert gain(joy, "mouthSmileLeft", "mouthSmileRight") > 0.2
    assert gain(joy, "cheekSquintLeft", "cheekSquintRight") > 0.15
    assert gain(sad, "browInnerUp") > 0.2 and gain(sad, "mouthFrownLeft", "mouthFrownRight") > 0.15
    assert abs(gain(sad, "mouthSmileLeft")) < 0.01
    assert joy.input_emotions.at(1.0)["joy"] == 1.0
    assert joy.output_emotions.at(1.0)["joy"] == pytest.approx(0.6, abs=1e-3)  # emotion_strength default 0.6
    # lips still close on p/b/m while smiling
    closed = (joy.channel("jawOpen") <= 0.06) & (joy.channel("mouthPressLeft") >= 0.3)
    for p in (p for p in f.known if p.name in ("P", "M")):
        assert closed[int(p.start * 60): int(p.end * 60) + 2].any()


def test_emotion_timeline_changes_over_time_and_is_smoothed(backend, fixtures):
    f = fixtures["bob_movie"]
    clip = run(backend, f, emotion_timeline=[EmotionKey(0.0, {"joy": 0.0}), EmotionKey(2.0, {"joy": 1.0})],
               post_processing={"emotion_strength": 1.0})
    smile = clip.channel("mouthSmileLeft")
    assert smile[: int(1.9 * 60)].max() < 0.35
    assert smile[int(3.0 * 60):].min() > 0.45
    req, out = clip.input_emotions, clip.output_emotions
    assert req.at(1.95)["joy"] == 0.0 and req.at(2.0)["joy"] == 1.0
    assert 0.0 < out.at(2.1)["joy"] < 0.6 and out.at(3.5)["joy"] > 0.95  # follows with a lag


def test_max_emotions_keeps_the_strongest(backend, fixtures):
    f = fixtures[SHORT]
    clip = run(backend, f, beginning_emotion={"joy": 0.9, "anger": 0.5, "fear": 0.3},
               post_processing={"max_emotions": 1, "emotion_strength": 1.0})
    v = clip.output_emotions.at(1.0)
    assert v["joy"] == pytest.approx(0.9, abs=1e-3) and v["anger"] == 0 and v["fear"] == 0


def test_progress_is_reported(backend, fixtures):
    seen: list[float] = []
    backend.infer(fixtures[SHORT].audio, RunConfig(), progress=lambda x, msg: seen.append(x))
    assert len(seen) >= 4 and seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


def test_cancel_before_and_during(backend, fixtures):
    f = fixtures[SHORT]
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        backend.infer(f.audio, RunConfig(), transcript=f.transcript, cancel=token)
    token = CancelToken()

    def progress(x, msg):
        if x >= 0.1:
            token.cancel()

    with pytest.raises(Cancelled):
        backend.infer(f.audio, RunConfig(), progress=progress, cancel=token)


def test_mismatched_transcript_falls_back_with_a_warning(backend, fixtures):
    f = fixtures[SHORT]
    clip = backend.infer(f.audio, RunConfig(), transcript="the quick brown fox jumps over the lazy dog")
    assert clip.meta["path"] == "asr"
    assert any("does not match" in w for w in clip.meta["warnings"])
    short = backend.infer(f.audio, RunConfig(), transcript="hello")  # aligns, but leaves speech uncovered
    assert short.meta["path"] == "asr"
    assert any("covers only part" in w for w in short.meta["warnings"])
    empty = backend.infer(f.audio, RunConfig(), transcript=" ... !")
    assert any("no words" in w for w in empty.meta["warnings"])


def test_another_lines_words_are_refused_by_their_fit(backend, fixtures):
    """The wide beams force another line's words through; their poor fit to the sounds refuses them, with a
    warning that says so, and the speech is recognised instead."""
    f = fixtures["van_window"]
    clip = backend.infer(f.audio, RunConfig(), transcript="Zorblax moved the blue box home.")
    assert clip.meta["path"] == "asr"
    assert any("does not match" in w and "fit the sounds poorly" in w for w in clip.meta["warnings"])


def test_out_of_vocabulary_word_is_spelled_out(backend, clip_of, fixtures):
    clip = clip_of("zorblax", True)
    assert clip.meta["path"] == "align"
    assert any("zorblax" in w and "letter rules" in w for w in clip.meta["warnings"])
    f = fixtures["zorblax"]
    again = backend.infer(f.audio, RunConfig(), transcript=f.transcript)  # same warning on every run
    assert again.meta["warnings"] == clip.meta["warnings"]
    assert np.array_equal(again.weights, clip.weights)


def test_bad_audio_is_a_clear_error(backend):
    with pytest.raises(AudioError, match="silence"):
        backend.infer(Audio(np.zeros(16000, np.float32), 16000, "quiet.wav"), RunConfig())
    with pytest.raises(AudioError, match="ms of audio"):
        backend.infer(Audio(np.ones(100, np.float32) * 0.1, 16000, "tiny.wav"), RunConfig())
    click = np.zeros(16000, np.float32)
    click[8000] = 0.5
    clip = backend.infer(Audio(click, 16000, "click.wav"), RunConfig())
    assert "no speech" in " ".join(clip.meta["warnings"]) and clip.channel("jawOpen").max() == 0.0


def test_piece_count_keeps_every_worker_busy():
    assert long_audio.piece_count(10.0, 2) == 2  # both workers get half of a 10 s clip
    assert long_audio.piece_count(60.0, 2) == 10 and long_audio.piece_count(61.0, 4) % 4 == 0
    assert long_audio.piece_count(4.0, 2) == 1  # no piece under MIN_PIECE
    assert long_audio.piece_count(25.0, 1) == 1 and long_audio.piece_count(61.0, 1) == 3  # one process: only long audio


def test_pieces_in_worker_processes_match_in_process(fixtures, monkeypatch):
    """Audio is cut in the pauses nearest even spacing; worker processes give the same phones as
    decoding in process, and the pieces' phones join without gaps or overlaps."""
    ph = phones_mod
    gap = np.zeros(int(0.6 * ph.RATE), np.int16)
    parts = []
    for n in ("zorblax", "van_window", "mabel_map"):
        parts += [np.round(fixtures[n].audio.resampled(ph.RATE).samples * 32767).astype(np.int16), gap]
    pcm = np.concatenate(parts)
    pieces = long_audio.split_at_pauses(pcm, 3)
    assert len(pieces) == 3
    assert pieces[0][0] == 0 and pieces[-1][1] == pytest.approx(len(pcm) / ph.RATE)
    for (_, end), (start, _) in zip(pieces, pieces[1:]):
        assert end == start
    loud = np.sqrt(np.mean(pcm.astype(np.float64) ** 2))

    def rms(t: float) -> float:
        i = int(t * ph.RATE)
        return float(np.sqrt(np.mean(pcm[i - 800: i + 800].astype(np.float64) ** 2)))

    total = len(pcm) / ph.RATE
    assert rms(total / 3) > 0.5 * loud and rms(2 * total / 3) > 0.5 * loud  # even thirds fall in words
    for _, cut in pieces[:-1]:  # the cuts moved to quiet spots (the pauses here)
        assert rms(cut) < 0.02 * loud, cut
    monkeypatch.delitem(sys.modules, "bpy", raising=False)  # other suites may have imported bpy
    assert process_pool.can_use_processes()
    marks: list[float] = []
    pooled, warn = long_audio.recognize_long(pcm, 2, lambda: None, marks.append, pieces=3)
    assert not warn and len(pooled) == 3 and marks[-1] == 1.0
    flat = [p for r in pooled for p in r.phones]
    assert all(a.end == pytest.approx(b.start, abs=1e-6) for a, b in zip(flat, flat[1:]))
    for r, (a, b) in zip(pooled, pieces):  # overlap decoded for context, trimmed off again
        assert r.phones[0].start >= a - 1e-9 and r.phones[-1].end <= b + 1e-9
    words = [w for r in pooled for w in r.words]  # the heard words: each once, in order, overlap trimmed too
    assert len(words) >= 12 and [w[0] for w in words] == " ".join(r.text for r in pooled).split()
    assert all(x[2] <= y[1] + 1e-6 for x, y in zip(words, words[1:]))
    monkeypatch.setattr(process_pool, "can_use_processes", lambda: False)  # no worker processes: all in this one
    here, _ = long_audio.recognize_long(pcm, 2, lambda: None, lambda x: None, pieces=3)
    assert [(p.name, round(p.start, 3)) for r in here for p in r.phones] == \
        [(p.name, round(p.start, 3)) for p in flat]


def test_worker_processes_everywhere_and_only_there_in_a_blender_ui(monkeypatch):
    """Worker processes run in plain Python, headless Blender and a Blender UI, never inside another worker
    process; in a Blender UI every decode goes to them (the decoder holds the GIL and would freeze the UI)."""
    import types

    monkeypatch.delitem(sys.modules, "bpy", raising=False)
    assert process_pool.can_use_processes() and not process_pool.only_in_workers()
    monkeypatch.setitem(sys.modules, "bpy", types.SimpleNamespace(app=types.SimpleNamespace(background=True)))
    assert process_pool.can_use_processes() and not process_pool.only_in_workers()
    monkeypatch.setitem(sys.modules, "bpy", types.SimpleNamespace(app=types.SimpleNamespace(background=False)))
    assert process_pool.can_use_processes() and process_pool.only_in_workers()
    monkeypatch.delitem(sys.modules, "bpy")
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:  # e.g. a2f serve's workers
        assert pool.submit(process_pool.can_use_processes).result() is False  # no pool inside a worker process


def test_workers_leave_when_their_parent_dies_without_cleaning_up(tmp_path):
    """A host that exits without running Python's exit handlers (the bpy 4.2 module, a crash) must not
    leave worker processes behind holding its stdout."""
    import os
    import subprocess
    import time

    script = tmp_path / "host.py"
    script.write_text(
        "import os\n"
        "from a2f_core import process_pool\n"
        "if __name__ == '__main__':\n"
        "    pool = process_pool.shared(2).executor()\n"
        "    print(*sorted(set(pool.submit(os.getpid).result() for _ in range(8))), flush=True)\n"
        "    print(*pool._processes, flush=True)\n"
        "    os._exit(0)\n"
    )
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    pids = [int(p) for p in r.stdout.split()]
    assert pids, r.stderr
    deadline = time.monotonic() + 5
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in pids if os.path.exists(f"/proc/{p}") and "zombie" not in _state(p)]
    assert not alive, f"workers still running: {alive}"


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next((line for line in fh if line.startswith("State:")), "").lower()
    except OSError:
        return "zombie"


def test_short_clips_from_threads_use_the_worker_pool(fixtures, monkeypatch):
    """A clip too short to cut still goes to the worker processes, so files decoded by parallel threads
    (`a2f infer DIR --jobs`, bake.py --jobs) use every core; the phones match decoding in process."""
    ph = phones_mod
    monkeypatch.delitem(sys.modules, "bpy", raising=False)
    process_pool.shutdown()
    pcms = [np.round(fixtures[n].audio.resampled(ph.RATE).samples * 32767).astype(np.int16)
            for n in ("zorblax", "van_window")]
    with ThreadPoolExecutor(2) as pool:
        pooled = list(pool.map(lambda p: long_audio.recognize_long(p, 2, lambda: None, lambda f: None), pcms))
    assert process_pool._SHARED is not None and process_pool._SHARED._executor is not None  # ran in workers
    for (res, warn), p in zip(pooled, pcms):
        assert not warn and len(res) == 1
        here = long_audio._decode_piece(p, 0.0)
        assert [(q.name, round(q.start, 3)) for q in res[0].phones] == [(q.name, round(q.start, 3)) for q in here.phones]
    words = normalise.words_of(fixtures["zorblax"].transcript)
    aligned, warn = long_audio.align_long(pcms[0], words, 2, lambda: None)
    assert not warn and aligned is not None and aligned.path == "align"


def test_long_transcript_alignment_in_pieces_matches_whole_file(fixtures, monkeypatch):
    """With a transcript, long audio is aligned piecewise in worker processes (cut at pauses found by
    one word pass); the phones match a whole-file alignment."""
    ph = phones_mod
    monkeypatch.delitem(sys.modules, "bpy", raising=False)
    gap = np.zeros(int(0.6 * ph.RATE), np.int16)
    parts, words = [], []
    for n in ("father_palm", "zorblax", "who_knows"):
        parts += [np.round(fixtures[n].audio.resampled(ph.RATE).samples * 32767).astype(np.int16), gap]
        words += normalise.words_of(fixtures[n].transcript)
    pcm = np.concatenate(parts)
    whole = ph.recognizer().align(pcm, words)
    pieces, warn = long_audio.align_long(pcm, words, 2, lambda: None, piece=2.5)
    process_pool.shutdown()
    assert whole is not None and pieces is not None and not warn
    assert pieces.pieces >= 2
    a = [p for p in whole.phones if p.name != "SIL"]
    b = [p for p in pieces.phones if p.name != "SIL"]
    assert [p.name for p in a] == [p.name for p in b]
    diff = np.abs(np.array([p.start for p in a]) - np.array([p.start for p in b]))
    assert np.median(diff) <= 0.01 and diff.max() <= 0.15
    assert any("zorblax" in w for w in pieces.warnings)
    assert pieces.phones[-1].end == pytest.approx(len(pcm) / ph.RATE, abs=0.02)
