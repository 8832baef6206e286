"""The pure parts of the ffmpeg client: command lines, tag cleaning, codec choice, probe parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from antenna.clients.ffmpeg import (
    AAC_BITRATE,
    BLACK_FRAME,
    MAX_TAG_BYTES,
    MediaInfo,
    Mp4Tags,
    audio_codec_args,
    audio_to_video_args,
    clean_tag,
    is_audio_only,
    last_error_line,
    metadata_args,
    parse_probe,
)


def info(codec: str | None = "mp3", duration: float | None = 5.0) -> MediaInfo:
    """Return the MediaInfo of an audio-only file."""
    return MediaInfo(duration, codec, None, codec is not None, False, "mp3")


def metadata(args: list[str]) -> dict[str, str]:
    """Return the -metadata key=value pairs of a command line."""
    pairs = [args[i + 1] for i, arg in enumerate(args) if arg == "-metadata"]
    return dict(pair.split("=", 1) for pair in pairs)


@pytest.mark.parametrize("codec", ["aac", "mp3", "alac", "ac3", "eac3", "opus"])
def test_codecs_mp4_carries_are_copied(codec: str) -> None:
    assert audio_codec_args(info(codec)) == ["-c:a", "copy"]


@pytest.mark.parametrize("codec", ["flac", "vorbis", "pcm_s16le", "wmav2", None])
def test_other_codecs_become_aac(codec: str | None) -> None:
    assert audio_codec_args(info(codec)) == ["-c:a", "aac", "-b:a", AAC_BITRATE]


def test_command_maps_audio_and_image_and_cuts_at_the_audio_length() -> None:
    args = audio_to_video_args(
        Path("/in/a b.mp3"), Path("/in/-cover.jpg"), Path("/out/x.mp4"), Mp4Tags(), info()
    )
    assert args[0] == "ffmpeg"
    assert args[1:6] == ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    inputs = [args[i + 1] for i, arg in enumerate(args) if arg == "-i"]
    assert inputs == ["file:/in/a b.mp3", "file:/in/-cover.jpg"]  # file: keeps '-' and ':' names literal
    assert "-loop" not in args  # the image is decoded once, tpad repeats it
    assert args[args.index("-t") + 1] == "5.000"
    assert args[-3:] == ["-f", "mp4", "file:/out/x.mp4"]
    for option in ("-shortest", "+faststart", "stillimage", "libx264"):
        assert option in args
    assert args[args.index("-map") : args.index("-map") + 4] == ["-map", "0:a:0", "-map", "1:v:0"]
    assert "yuv420p" in args[args.index("-vf") + 1]


def test_no_image_uses_a_black_frame_and_unknown_length_relies_on_shortest() -> None:
    args = audio_to_video_args(
        Path("a.ogg"), None, Path("x.mp4"), Mp4Tags(), info("vorbis", None), ffmpeg="/x/ff"
    )
    assert args[0] == "/x/ff"
    assert args[args.index("lavfi") + 2] == BLACK_FRAME
    assert "-t" not in args
    assert "-shortest" in args
    assert args[args.index("-c:a") : args.index("-c:a") + 4] == ["-c:a", "aac", "-b:a", AAC_BITRATE]


def test_tags_are_written_and_empty_ones_left_out() -> None:
    tags = Mp4Tags(
        title="Episode 1",
        show="The Show",
        description="First line\nsecond line",
        date="2024-05-06",
        episode_id="S01E01",
        season_number=1,
        episode_sort=0,
        genre="Podcast",
    )
    assert metadata(metadata_args(tags)) == {
        "title": "Episode 1",
        "show": "The Show",
        "description": "First line\nsecond line",
        "synopsis": "First line\nsecond line",
        "date": "2024-05-06",
        "episode_id": "S01E01",
        "season_number": "1",
        "episode_sort": "0",
        "genre": "Podcast",
        "media_type": "10",
    }


@pytest.mark.parametrize(
    ("number", "written"), [(None, None), (-1, None), (0, "0"), (255, "255"), (256, None)]
)
def test_season_and_episode_numbers_only_when_they_fit_a_byte(
    number: int | None, written: str | None
) -> None:
    pairs = metadata(metadata_args(Mp4Tags(season_number=number, episode_sort=number)))
    assert pairs.get("season_number") == written
    assert pairs.get("episode_sort") == written


def test_tags_lose_control_characters_and_keep_equals_signs() -> None:
    tags = Mp4Tags(title="a\x00b\x1b[31m\tc\r\nd = e", description="x\x00y\r\nz\x07", comment="-metadata x=y")
    pairs = metadata(metadata_args(tags))
    assert pairs["title"] == "a b [31m c d = e"
    assert pairs["description"] == "x y\nz"
    assert pairs["comment"] == "-metadata x=y"
    assert all("\x00" not in arg for arg in metadata_args(tags))


def test_long_descriptions_are_capped_at_a_character_boundary() -> None:
    text = clean_tag("é" * MAX_TAG_BYTES, multiline=True)
    assert len(text.encode()) <= MAX_TAG_BYTES
    assert set(text) == {"é"}
    assert clean_tag("x" * 10_000, multiline=True) == "x" * 10_000


def test_probe_parsing_ignores_cover_pictures() -> None:
    data = {
        "format": {"format_name": "mp3", "duration": "61.5"},
        "streams": [
            {"codec_type": "audio", "codec_name": "mp3"},
            {"codec_type": "video", "codec_name": "mjpeg", "disposition": {"attached_pic": 1}},
        ],
    }
    parsed = parse_probe(data)
    assert parsed == MediaInfo(61.5, "mp3", None, True, False, "mp3")
    assert is_audio_only(parsed)


def test_probe_parsing_of_a_video_and_of_odd_answers() -> None:
    video = parse_probe(
        {
            "format": {"format_name": "mov", "duration": "N/A"},
            "streams": [
                {"codec_type": "video", "codec_name": "h264", "duration": "9.5", "disposition": {}},
                {"codec_type": "audio", "codec_name": "aac", "duration": "10.0"},
            ],
        }
    )
    assert video == MediaInfo(10.0, "aac", "h264", True, True, "mov")
    assert not is_audio_only(video)
    assert parse_probe({}) == MediaInfo(None, None, None, False, False, "")
    assert parse_probe({"streams": ["x", None], "format": {"duration": "nan"}}).duration is None


def test_last_error_line_prefers_the_cause() -> None:
    stderr = (
        "[mp3 @ 0x55f3013ef1c0] Failed to read frame size: Could not seek to 51023.\n"
        "bad.mp3: Invalid argument\n\n"
    )
    assert last_error_line(stderr) == "mp3: Failed to read frame size: Could not seek to 51023"
    assert last_error_line("x.mp3: Invalid argument\n") == "x.mp3: Invalid argument"
    assert last_error_line("") == "no reason given"
