"""Character presets in NVIDIA's run-time YAML, emotion presets, validation with clear errors."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from a2f_core import presets
from a2f_core.config import FACE_PARAM_RANGES, RunConfig
from a2f_core.errors import ConfigError
from a2f_core.names import EMOTIONS, NVIDIA_52, NVIDIA_TONGUE_16
from a2f_core.paths import preset_path

# (claire, mark, james) from the v2.0 sample files (a2f-wire-protocol.md §3.2)
DOCUMENTED_FACE = {
    "lowerFaceStrength": (1.25, 1.3, 1.2),
    "lowerFaceSmoothing": (0.006, 0.0023, 0.006),
    "skinStrength": (1.0, 1.1, 1.0),
    "eyelidOpenOffset": (0.0, 0.06, 0.06),
    "lipOpenOffset": (0.0, -0.03, -0.02),
    "tongueStrength": (1.3, 1.3, 1.3),
    "upperFaceSmoothing": (0.001, 0.001, 0.001),
}
DOCUMENTED_MULT = {
    "JawOpen": (1.0, 1.0, 0.8),
    "MouthClose": (1.0, 0.2, 0.3),
    "MouthFunnel": (1.2, 1.2, 1.0),
    "MouthSmileLeft": (0.8, 0.8, 1.2),
    "MouthFrownRight": (0.4, 0.5, 0.5),
    "MouthStretchLeft": (0.1, 0.05, 0.05),
    "BrowInnerUp": (1.0, 1.0, 1.3),
    "EyeLookUpLeft": (0.0, 0.0, 0.0),
    "TongueOut": (0.0, 0.0, 0.0),
    "TongueTipUp": (1.0, 1.0, 1.0),
}


def write(tmp_path, text: str, name: str = "custom.yml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_three_characters_ship_with_the_documented_defaults():
    assert presets.list_characters() == ["claire", "mark", "james"]
    assert presets.load_character("Mark").character == "mark"
    for i, name in enumerate(("claire", "mark", "james")):
        cfg = presets.load_character(name)
        assert cfg.character == name
        for k, v in DOCUMENTED_FACE.items():
            assert cfg.face_params[k] == v[i], (name, k)
        assert len(cfg.face_params) == 12
        assert list(cfg.bs_multipliers) == list(NVIDIA_52 + NVIDIA_TONGUE_16)
        for k, v in DOCUMENTED_MULT.items():
            assert cfg.bs_multipliers[k] == v[i], (name, k)
        assert set(cfg.bs_offsets.values()) == {0.0} and len(cfg.bs_offsets) == 68
        assert cfg.enable_clamping_bs_weight is False
        assert cfg.live_transition_time == 0.0001
        assert cfg.beginning_emotion == {
            "amazement": 1.0, "anger": 0.0, "disgust": 0.0, "fear": 1.0, "outofbreath": 0.0, "pain": 1.0, "sadness": 0.0
        }
        assert cfg.post_processing == {
            "emotion_contrast": 1.0, "live_blend_coef": 0.7, "enable_preferred_emotion": False,
            "preferred_emotion_strength": 0.5, "emotion_strength": 0.6, "max_emotions": 3,
        }
        assert isinstance(cfg.post_processing["max_emotions"], int)
        joy, fear = cfg.emotion_timeline
        assert (joy.time_code, joy.emotions["joy"], sum(joy.emotions.values())) == (0.0, 1.0, 1.0)
        assert (fear.time_code, fear.emotions["fear"]) == (1.0, 1.0)
        assert fear.emotions["pain"] == (0.0 if name == "claire" else 0.1)


def test_nvidia_sample_file_layout_loads(tmp_path):
    """Indentation, comments and commented-out keys as in NVIDIA's config_claire.yml."""
    p = write(tmp_path, """\
        face_parameters:
          # Controls the range of motion on the upper regions of the face
          upperFaceStrength: 1
        blendshape_parameters:
          enable_clamping_bs_weight: False
          multipliers:
            EyeBlinkLeft: 1.0
          offsets:
            EyeBlinkLeft: 0.0
        live_transition_time: 0.0001
        beginning_emotion:
          amazement: 1.0
          # cheekiness: 0.0
        post_processing_parameters:
          enable_preferred_emotion: false
          max_emotions: 3
        emotion_with_timecode_list:
          emotion_with_timecode1:
              time_code: 0.0
              emotions:
                joy: 1.0
        """, "config_mark.yml")
    cfg = presets.load_character(p)
    assert cfg.character == "mark" and cfg.source == str(p)
    assert cfg.face_params == {"upperFaceStrength": 1.0}
    assert cfg.beginning_emotion == {"amazement": 1.0}
    assert cfg.emotion_timeline[0].emotions == {"joy": 1.0}


def test_partial_custom_file_keeps_defaults_and_camel_case_blendshape_keys_are_accepted(tmp_path):
    p = write(tmp_path, """\
        face_parameters:
          skinStrength: 0.5
          upperFaceSmoothing: 2e-3
        blendshape_parameters:
          multipliers:
            jawOpen: 0.7
        """)
    cfg = presets.load_character(p)
    assert cfg.character == "custom"
    assert cfg.face("skinStrength") == 0.5
    assert cfg.face("upperFaceSmoothing") == 0.002  # YAML 1.1 reads 2e-3 as text; still a number
    assert cfg.face("lowerFaceStrength") == FACE_PARAM_RANGES["lowerFaceStrength"][2]
    assert cfg.bs_multipliers == {"JawOpen": 0.7}
    assert cfg.emotion_timeline == []


@pytest.mark.parametrize("name", ["claire", "mark", "james"])
def test_to_yaml_round_trips(tmp_path, name):
    cfg = presets.load_character(name)
    text = presets.to_yaml(cfg)
    data = yaml.safe_load(text)
    assert list(data) == list(presets.TOP_LEVEL_KEYS)
    assert list(data["face_parameters"])[:3] == ["upperFaceStrength", "upperFaceSmoothing", "lowerFaceStrength"]
    assert list(data["blendshape_parameters"]["multipliers"])[:2] == ["EyeBlinkLeft", "EyeLookDownLeft"]
    assert list(data["emotion_with_timecode_list"]) == ["emotion_with_timecode1", "emotion_with_timecode2"]
    p = presets.save_yaml(cfg, tmp_path / f"{name}_copy.yaml")
    back = presets.load_character(p)
    assert back.character == name
    back.source = cfg.source
    assert back == cfg


def test_to_yaml_round_trips_an_edited_config(tmp_path):
    cfg = presets.apply_emotion(presets.load_character("james"), "amazement", 0.5)
    cfg.face_params["blinkStrength"] = 1.5
    cfg.enable_clamping_bs_weight = True
    cfg.post_processing["max_emotions"] = 6
    back = presets.load_character(presets.save_yaml(cfg, tmp_path / "james_edited.yml"))
    back.source = cfg.source
    assert back == cfg


def test_emotion_presets_cover_the_a2f_emotions():
    names = presets.list_emotions()
    assert names[0] == "neutral"
    assert {"joy", "anger", "sadness", "fear", "disgust", "amazement"} <= set(names)
    assert set(names) - {"neutral"} <= set(EMOTIONS)
    desc = presets.describe_emotions()
    assert all(desc[n] for n in names)


def test_apply_emotion_replaces_the_timeline_scaled_by_strength():
    base = presets.load_character("claire")
    cfg = presets.apply_emotion(base, "joy", 0.5)
    assert len(cfg.emotion_timeline) == 1
    key = cfg.emotion_timeline[0]
    assert key.time_code == 0.0
    assert key.emotions == {e: (0.5 if e == "joy" else 0.0) for e in EMOTIONS}  # fear from the file is gone
    assert cfg.beginning_emotion == key.emotions
    assert base.emotion_timeline[1].emotions["fear"] == 1.0  # the input is not modified
    assert cfg.face_params == base.face_params
    neutral = presets.apply_emotion(base, "neutral")
    assert all(v == 0.0 for k in neutral.emotion_timeline for v in k.emotions.values())


def test_amazement_builds_up_over_time():
    cfg = presets.apply_emotion(RunConfig(), "amazement", 1.0)
    (a, b) = cfg.emotion_timeline
    assert a.time_code < b.time_code
    assert a.emotions["amazement"] < b.emotions["amazement"] == 1.0


def test_apply_emotion_errors():
    with pytest.raises(ConfigError, match=r"unknown emotion 'happy'; choose one of: neutral, amazement"):
        presets.apply_emotion(RunConfig(), "happy")
    with pytest.raises(ConfigError, match=r"emotion strength 1.5 is out of range; allowed 0.0 .. 1.0"):
        presets.apply_emotion(RunConfig(), "joy", 1.5)


def test_unknown_preset_and_missing_file():
    with pytest.raises(ConfigError, match=r"unknown preset 'bob'; choose one of: claire, mark, james, or give a .yml/.yaml"):
        presets.load_character("bob")
    with pytest.raises(ConfigError, match=r"nothere\.yml: no such preset file"):
        presets.load_character("nothere.yml")


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("face_parameter:\n  skinStrength: 1\n", r"line 1: unknown key 'face_parameter' \(did you mean 'face_parameters'\?\); allowed: face_parameters, blendshape_parameters"),
        ("face_parameters:\n  skinStrenght: 1\n", r"line 2: unknown key 'face_parameters.skinStrenght' \(did you mean 'skinStrength'\?\)"),
        ("face_parameters:\n  skinStrength: 5\n", r"line 2: face_parameters.skinStrength = 5 is out of range; allowed 0.0 .. 2.0"),
        ("face_parameters:\n  lipOpenOffset: -0.5\n", r"lipOpenOffset = -0.5 is out of range; allowed -0.2 .. 0.2"),
        ("face_parameters:\n  skinStrength: strong\n", r"face_parameters.skinStrength = 'strong' is not a number"),
        ("face_parameters:\n  skinStrength: .nan\n", r"skinStrength = nan must be a finite number"),
        ("face_parameters: 3\n", r"face_parameters must be a mapping"),
        ("blendshape_parameters:\n  multipliers:\n    JawOpn: 1\n", r"line 3: unknown key 'blendshape_parameters.multipliers.JawOpn' \(did you mean 'JawOpen'\?\); allowed: the 52 ARKit and 16 tongue"),
        ("blendshape_parameters:\n  multipliers:\n    JawOpen: 1\n    jawOpen: 2\n", r"names the blendshape JawOpen a second time"),
        ("blendshape_parameters:\n  enable_clamping_bs_weight: 1\n", r"enable_clamping_bs_weight = 1 must be true or false"),
        ("blendshape_parameters:\n  multiplier:\n    JawOpen: 1\n", r"unknown key 'blendshape_parameters.multiplier'"),
        ("live_transition_time: 0\n", r"live_transition_time = 0 is out of range; allowed > 0"),
        ("beginning_emotion:\n  joy: 1.5\n", r"line 2: beginning_emotion.joy = 1.5 is out of range; allowed 0.0 .. 1.0"),
        ("beginning_emotion:\n  happiness: 1\n", r"unknown key 'beginning_emotion.happiness'; allowed: amazement, anger"),
        ("post_processing_parameters:\n  max_emotions: 2.5\n", r"max_emotions = 2.5 must be a whole number \(0 .. 6\)"),
        ("post_processing_parameters:\n  max_emotions: 9\n", r"max_emotions = 9 is out of range; allowed 0 .. 6"),
        ("post_processing_parameters:\n  emotion_contrast: 0.1\n", r"emotion_contrast = 0.1 is out of range; allowed 0.3 .. 3.0"),
        ("post_processing_parameters:\n  enable_preferred_emotion: yes please\n", r"enable_preferred_emotion = 'yes please' must be true or false"),
        ("emotion_with_timecode_list:\n  e1:\n    time_code: -1\n    emotions: {joy: 1}\n", r"line 3: emotion_with_timecode_list.e1.time_code = -1 is out of range; allowed >= 0.0"),
        ("emotion_with_timecode_list:\n  e1:\n    emotions: {joy: 1}\n", r"line 2: emotion_with_timecode_list.e1 has no time_code"),
        ("emotion_with_timecode_list:\n  e1:\n    time_code: 0\n    emotions: {joy: 2}\n", r"e1.emotions.joy = 2 is out of range; allowed 0.0 .. 1.0"),
        ("emotion_with_timecode_list:\n  e1:\n    time_code: 0\n    emotions: {glee: 1}\n", r"unknown key 'emotion_with_timecode_list.e1.emotions.glee'"),
        ("emotion_with_timecode_list:\n  e1:\n    time_code: 0\n    emotion: {joy: 1}\n", r"unknown key 'emotion_with_timecode_list.e1.emotion' \(did you mean 'emotions'\?\)"),
        ("face_parameters:\n  skinStrength: 1\n  skinStrength: 2\n", r"line 3: key 'face_parameters.skinStrength' appears twice \(first on line 2\)"),
        ("face_parameters:\n  skinStrength: 1\n bad indent: 2\n", r"line 3, column 2: YAML syntax error"),
        ("face_parameters: [1, 2\n", r"YAML syntax error"),
        ("# only a comment\n", r"the file is empty"),
        ("- 1\n- 2\n", r"must be a mapping of 'key: value' lines"),
    ],
)
def test_bad_yaml_gives_one_clear_error_naming_file_key_value_range(tmp_path, text, pattern):
    p = tmp_path / "my_config.yml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=pattern) as e:
        presets.load_character(p)
    assert str(e.value).startswith(str(p))
    assert "\n" not in str(e.value)


def test_every_shipped_preset_file_validates():
    for n in presets.list_emotions():
        presets.load_emotion(n)
    for n in presets.list_characters():
        text = preset_path("characters", f"{n}.yaml").read_text()
        assert "\t" not in text
        presets.validate(*presets.parse_yaml(text, n)[:1], n)
