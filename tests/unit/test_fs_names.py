"""Safe names: the rules one by one, then properties over arbitrary text."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antenna.errors import UnsafePath
from antenna.fs.names import _BAD_CHARS, _FORBIDDEN, sanitize_name, sanitize_relpath, truncate_utf8

# Text biased towards the characters the rules care about, plus anything Unicode has.
TRICKY = st.lists(
    st.one_of(
        st.sampled_from(list('./\\:*?"<>| \t\n\x00\x7f\x85ée\u0301\u00e9\u200b😀中')),
        st.sampled_from(["CON", "con", "Lpt1", "COM¹", "nul", "AUX", "prn", ".txt", ".mkv", ". "]),
        st.characters(),
    ),
    max_size=40,
).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=400), TRICKY, st.text(st.characters(codec="utf-8"), min_size=200))
# Lone surrogates arrive from JSON ("\ud800") and surrogateescape'd file names.
WITH_SURROGATES = st.text(st.characters(blacklist_categories=()), max_size=60)


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Episode 1: The Start", "Episode 1_ The Start"),
        ('a/b\\c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j"),
        ("tab\there\x00nul\x7fdel", "tab_here_nul_del"),
        ("...hidden", "hidden"),
        ("  padded  ", "padded"),
        ("trailing dots...", "trailing dots"),
        ("name. . ", "name"),
        ("", "_"),
        (".", "_"),
        ("..", "_"),
        (" . . ", "_"),
        ("CON", "CON_"),
        ("con.txt", "con_.txt"),
        ("Lpt9.tar.gz", "Lpt9_.tar.gz"),
        ("COM¹", "COM¹_"),
        ("CON .nfo", "CON _.nfo"),
        ("CONSOLE", "CONSOLE"),
        ("nul-free.txt", "nul-free.txt"),
        ("e\u0301te\u0301", "\u00e9t\u00e9"),
    ],
)
def test_sanitize_name_rules(raw: str, expected: str) -> None:
    assert sanitize_name(raw) == expected


def test_fallback_is_used_and_checked() -> None:
    assert sanitize_name("...", fallback="untitled") == "untitled"
    with pytest.raises(ValueError, match="fallback"):
        sanitize_name("x", fallback="a/b")
    with pytest.raises(ValueError, match="max_bytes"):
        sanitize_name("x", max_bytes=0)


def test_long_name_keeps_extension_and_whole_characters() -> None:
    name = "é" * 300 + ".mkv"
    result = sanitize_name(name)
    assert result.endswith(".mkv")
    assert _bytes(result) <= 255
    assert result == "é" * 125 + ".mkv"  # 250 + 4 bytes: the next é would need 2 more


def test_long_suffix_is_not_treated_as_extension() -> None:
    result = sanitize_name("x" * 300 + ".a-very-long-not-an-extension")
    assert result == "x" * 255


def test_truncation_that_lands_on_a_reserved_name_is_fixed() -> None:
    assert sanitize_name("CONSOLE.txt", max_bytes=7) == "CO_.txt"
    assert sanitize_name("AUXILIARY", max_bytes=3) == "AU_"


def test_no_room_for_extension_keeps_start_of_name() -> None:
    assert sanitize_name("abcdef.mkv", max_bytes=4) == "abcd"
    assert sanitize_name("😀.txt", max_bytes=3) == "_"


def test_lone_surrogates_are_replaced() -> None:
    assert sanitize_name("a\ud800b") == "a_b"


def test_truncate_utf8() -> None:
    assert truncate_utf8("abc", 5) == "abc"
    assert truncate_utf8("aé", 2) == "a"
    assert truncate_utf8("a😀", 4) == "a"
    assert truncate_utf8("a😀", 5) == "a😀"
    assert truncate_utf8("abc", 0) == ""
    with pytest.raises(ValueError, match="max_bytes"):
        truncate_utf8("abc", -1)


@given(text=st.text(max_size=200), limit=st.integers(0, 300))
@settings(max_examples=300)
def test_truncate_utf8_is_a_prefix_within_the_limit(text: str, limit: int) -> None:
    cut = truncate_utf8(text, limit)
    assert text.startswith(cut)
    assert _bytes(cut) <= limit
    if _bytes(text) > limit:
        # Maximal: one more character would not have fitted.
        assert _bytes(text[: len(cut) + 1]) > limit


@given(name=st.one_of(ANY_TEXT, WITH_SURROGATES), limit=st.sampled_from([255, 255, 64, 16, 8, 5, 3, 1]))
@settings(max_examples=500)
def test_sanitize_name_properties(name: str, limit: int) -> None:
    result = sanitize_name(name, max_bytes=limit)
    assert result not in ("", ".", "..")
    assert _bytes(result) <= limit  # also proves it encodes: no lone surrogates left
    assert "/" not in result
    assert "\\" not in result
    assert "\x00" not in result
    assert not any(unicodedata.category(c) == "Cc" for c in result)
    assert not result.startswith((".", " "))
    assert not result.endswith((".", " "))
    assert unicodedata.is_normalized("NFC", result)
    assert result.split(".")[0].rstrip(" ").upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
    assert sanitize_name(result, max_bytes=limit) == result  # idempotent


@given(name=ANY_TEXT)
@settings(max_examples=200)
def test_short_extension_survives_truncation(name: str) -> None:
    long_name = "a" + name + "x" * 300 + ".mkv"
    result = sanitize_name(long_name)
    assert result.endswith(".mkv")
    assert _bytes(result) <= 255


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Show/Season 01/ep.mkv", "Show/Season 01/ep.mkv"),
        ("Show\\Season 01\\ep.mkv", "Show/Season 01/ep.mkv"),
        ("a//./b/", "a/b"),
        ("a/con/b:c", "a/con_/b_c"),
        ("a/.../b", "a/_/b"),
    ],
)
def test_sanitize_relpath(raw: str, expected: str) -> None:
    assert sanitize_relpath(raw) == PurePosixPath(expected)


@pytest.mark.parametrize("raw", ["../x", "a/../../b", "a\\..\\b", "..", "/etc/passwd", "\\x", "", "./"])
def test_sanitize_relpath_refuses(raw: str) -> None:
    with pytest.raises(UnsafePath):
        sanitize_relpath(raw)


@given(path=st.lists(st.one_of(TRICKY, st.sampled_from(["..", ".", "", "a"])), max_size=6).map("/".join))
@settings(max_examples=300)
def test_sanitize_relpath_properties(path: str) -> None:
    try:
        result = sanitize_relpath(path)
    except UnsafePath:
        return
    assert not result.is_absolute()
    assert result.parts
    for part in result.parts:
        assert part not in ("", ".", "..")
        assert _bytes(part) <= 255
        assert "\\" not in part


def test_the_bad_character_class_is_the_forbidden_set_and_the_cc_and_cs_categories() -> None:
    # The sanitiser replaces by one regex class; it must match the rule it stands for on every code point.
    for point in range(0x110000):
        char = chr(point)
        wanted = char in _FORBIDDEN or unicodedata.category(char) in ("Cc", "Cs")
        assert bool(_BAD_CHARS.fullmatch(char)) == wanted, hex(point)
