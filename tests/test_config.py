from pathlib import Path

import pytest

from seesay.config import Settings, config_path, env_name, keys, load_settings, save_settings
from seesay.errors import ConfigError


def test_defaults_file_env_cli_precedence(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[generation]\ntemperature = 0.5\nmax_new_tokens = 100\n[model]\ndevice = "cpu"\n')
    env = {"SEESAY_GENERATION_TEMPERATURE": "0.7"}
    s = load_settings(path, env=env, overrides={"generation.max_new_tokens": 42})
    assert s.generation.temperature == 0.7
    assert s.generation.max_new_tokens == 42
    assert s.model.device == "cpu"
    assert s.generation.top_p == Settings().generation.top_p


def test_round_trip_through_toml(tmp_path: Path) -> None:
    s = Settings().replace({"chat.system_prompt": 'Say "hi"\nand\tbye \\o/', "model.threads": 3})
    path = save_settings(s, tmp_path / "c.toml")
    assert load_settings(path, env={}) == s


def test_default_path_is_in_user_config_dir(seesay_home: Path) -> None:
    assert config_path().is_relative_to(seesay_home)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("generation.temperature", "hot", "generation.temperature: expected a number"),
        ("generation.temperature", 9, "from 0.0 to 2.0"),
        ("generation.max_new_tokens", 1.5, "generation.max_new_tokens: expected a whole number"),
        ("model.device", "tpu", "model.device: expected one of auto, cpu, cuda, cuda:N"),
        ("model.dtype", "int3", "model.dtype: expected one of"),
        ("model.colour", "red", "model.colour: unknown setting"),
        ("voice.speed", 1, "voice.speed: unknown setting"),
    ],
)
def test_bad_values_name_the_key(key: str, value: object, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(".", r"\.")):
        Settings().replace({key: value})


def test_cuda_index_accepted() -> None:
    assert Settings().replace({"model.device": "cuda:1"}).model.device == "cuda:1"


def test_malformed_file_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[model\nname = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, env={})


def test_bad_value_in_file_names_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[generation]\ntop_p = 'lots'\n")
    with pytest.raises(ConfigError, match=r"generation\.top_p: .*config\.toml"):
        load_settings(path, env={})


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="Cannot read settings file"):
        load_settings(path, env={})


def test_env_names_cover_every_key() -> None:
    assert env_name("remote.base_url") == "SEESAY_REMOTE_BASE_URL"
    assert len(set(map(env_name, keys()))) == len(keys())


def test_bad_env_value_names_source() -> None:
    with pytest.raises(ConfigError, match=r"model\.threads: .*environment"):
        load_settings(Path("/nonexistent.toml"), env={"SEESAY_MODEL_THREADS": "many"})


@pytest.mark.parametrize("word", ["enabled", "y", "2", "ture", ""])
def test_a_boolean_typo_is_refused_not_read_as_false(
    word: str, seesay_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``require_key_on_loopback = "enabled"`` once turned the API key off."""
    from seesay.cli import main

    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text(f'[server]\nrequire_key_on_loopback = "{word}"\n')
    assert main(["serve", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "server.require_key_on_loopback: expected true or false" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        ("yes", True),
        (" On ", True),
        ("1", True),
        (1, True),
        ("false", False),
        ("NO", False),
        ("off", False),
        ("0", False),
        (0, False),
    ],
)
def test_usual_boolean_spellings(raw: object, expected: bool) -> None:
    s = Settings().replace({"server.require_key_on_loopback": raw})
    assert s.server.require_key_on_loopback is expected
