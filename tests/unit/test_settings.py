"""Settings: defaults file, env overrides, one clear error naming the bad key."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from antenna.errors import SettingsError
from antenna.settings import SETTINGS_FILE, default_toml, load_settings, redacted_view, setting_keys


def test_defaults_without_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert settings.port == 8765
    assert settings.host == "127.0.0.1"
    assert settings.effective_database_url == f"sqlite:///{(tmp_path / 'antenna.db').resolve()}"


def test_default_file_comments_every_key_and_parses_to_defaults(tmp_path: Path) -> None:
    text = default_toml()
    for key in setting_keys():
        assert f"# {key} = " in text
    assert tomllib.loads(text) == {}
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and " = " in line else "" for line in text.splitlines()
    )
    values = tomllib.loads(uncommented)
    values.pop("admin_password")
    values.pop("media_token")
    (tmp_path / SETTINGS_FILE).write_text(
        uncommented.replace('admin_password = ""', "").replace('media_token = ""', "")
    )
    assert load_settings(tmp_path, {}).model_dump(exclude={"data_dir"}) == load_settings(
        tmp_path / "none", {}
    ).model_dump(exclude={"data_dir"})


def test_env_overrides_file(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text('port = 9000\nlog_level = "DEBUG"\n')
    settings = load_settings(tmp_path, {"ANTENNA_PORT": "9100", "ANTENNA_DATA": "/elsewhere"})
    assert settings.port == 9100
    assert settings.log_level == "DEBUG"


def test_typo_key_is_named_with_suggestion(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text("prot = 1\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path, {})
    assert "unknown key 'prot'" in str(caught.value)
    assert "Did you mean 'port'?" in str(caught.value)


def test_unknown_env_setting_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="ANTENNA_PROT"):
        load_settings(tmp_path, {"ANTENNA_PROT": "1"})


@pytest.mark.parametrize(
    ("content", "env", "expected"),
    [
        ('port = "abc"\n', {}, "key 'port'"),
        ("", {"ANTENNA_PORT": "abc"}, "environment variable ANTENNA_PORT"),
        ("port = 70000\n", {}, "key 'port'"),
        ('timezone = "Mars/Olympus"\n', {}, "unknown timezone"),
        ("port = [\n", {}, "not valid TOML"),
        ('log_level = "LOUD"\n', {}, "key 'log_level'"),
    ],
)
def test_invalid_values_give_one_clear_error(
    tmp_path: Path, content: str, env: dict[str, str], expected: str
) -> None:
    (tmp_path / SETTINGS_FILE).write_text(content)
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path, env)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_redacted_view_masks_secrets(tmp_path: Path) -> None:
    settings = load_settings(
        tmp_path,
        {
            "ANTENNA_ADMIN_PASSWORD": "hunter22",
            "ANTENNA_DATABASE_URL": "postgresql+psycopg://bob:pa55word@db:5432/antenna",
        },
    )
    view = redacted_view(settings)
    text = repr(view)
    assert "hunter22" not in text
    assert "pa55word" not in text
    assert view["admin_password"] == "********"


@hypothesis_settings(max_examples=300)
@given(content=st.text(max_size=200), env_value=st.text(max_size=30))
def test_any_file_or_variable_gives_settings_or_one_clear_error(content: str, env_value: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        (path / SETTINGS_FILE).write_text(content, encoding="utf-8", errors="surrogatepass")
        env = {"ANTENNA_PORT": env_value} if "\0" not in env_value else {}
        error: SettingsError | None = None
        try:
            load_settings(path, env)
        except SettingsError as exc:
            error = exc
        if error is not None:
            assert error.message
            assert "\n" not in error.message
