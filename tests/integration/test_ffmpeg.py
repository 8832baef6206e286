"""Audio-to-video and probing with the real ffmpeg of this machine, on inputs ffmpeg and Pillow generate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from antenna.clients.ffmpeg import (
    FfmpegError,
    FfmpegMissing,
    Mp4Tags,
    audio_to_video,
    is_audio_only,
    probe,
)
from tests.conftest import service_missing

SECONDS = 5
TAGS = Mp4Tags(
    title="Episode 7: Ünïcode & = signs",
    show="The Show",
    description="Show notes\nwith a second line\x00 and a NUL",
    date="2024-05-06",
    episode_id="S2024E07",
    season_number=24,
    episode_sort=7,
    comment="https://example.org/ep7",
    genre="Podcast",
)
# Input extension and encoder -> codec expected in the MP4: copied where MP4 carries it, else AAC.
AUDIO = {
    "mp3": ("libmp3lame", "mp3"),
    "m4a": ("aac", "aac"),
    "aac": ("aac", "aac"),
    "opus": ("libopus", "opus"),
    "flac": ("flac", "aac"),
    "ogg": ("libvorbis", "aac"),
    "wav": ("pcm_s16le", "aac"),
}


@pytest.fixture(autouse=True)
def _ffmpeg_installed() -> None:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        service_missing("ffmpeg/ffprobe are not installed (Debian package ffmpeg)")


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly to make a test input."""
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_audio(folder: Path, ext: str, seconds: float = SECONDS) -> Path:
    """Write a sine tone encoded for the given extension."""
    path = folder / f"tone.{ext}"
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", AUDIO[ext][0], str(path))
    return path


def make_image(folder: Path, name: str = "cover.jpg", size: tuple[int, int] = (601, 401)) -> Path:
    """Write a cover with odd dimensions, which yuv420p cannot take as they are."""
    path = folder / name
    Image.new("RGB", size, (200, 40, 90)).save(path)
    return path


def ffprobe(path: Path) -> dict[str, Any]:
    """Return ffprobe's JSON for path."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def streams(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Return the streams of one kind."""
    return [s for s in data["streams"] if s["codec_type"] == kind]


@pytest.mark.parametrize("ext", sorted(AUDIO))
def test_audio_becomes_an_mp4_with_a_still_and_tags(tmp_path: Path, ext: str) -> None:
    audio = make_audio(tmp_path, ext)
    out = tmp_path / "episode.mp4"
    audio_to_video(audio, make_image(tmp_path), out, TAGS)

    data = ffprobe(out)
    (video,) = streams(data, "video")
    (sound,) = streams(data, "audio")
    assert video["codec_name"] == "h264"
    assert video["pix_fmt"] == "yuv420p"
    assert (video["width"], video["height"]) == (600, 400)
    assert sound["codec_name"] == AUDIO[ext][1]
    assert abs(float(data["format"]["duration"]) - SECONDS) < 0.5
    tags = data["format"]["tags"]
    assert tags["title"] == TAGS.title
    assert tags["show"] == "The Show"
    assert tags["description"] == "Show notes\nwith a second line  and a NUL"
    assert tags["date"] == "2024-05-06"
    assert tags["episode_id"] == "S2024E07"
    assert (tags["season_number"], tags["episode_sort"], tags["media_type"]) == ("24", "7", "10")
    assert list(tmp_path.glob("*.tmp.mp4")) == []


def test_numbers_the_muxer_would_truncate_are_left_out(tmp_path: Path) -> None:
    out = tmp_path / "x.mp4"
    audio_to_video(make_audio(tmp_path, "mp3"), None, out, Mp4Tags(season_number=2024, episode_sort=255))
    tags = ffprobe(out)["format"]["tags"]
    assert "season_number" not in tags  # ffmpeg would have written 2024 as 232
    assert tags["episode_sort"] == "255"


def test_probe_describes_audio_and_the_converted_video(tmp_path: Path) -> None:
    audio = make_audio(tmp_path, "mp3")
    info = probe(audio)
    assert info.audio_codec == "mp3"
    assert info.video_codec is None
    assert is_audio_only(info)
    assert info.duration is not None
    assert abs(info.duration - SECONDS) < 0.5

    out = tmp_path / "x.mp4"
    audio_to_video(audio, None, out, Mp4Tags(title="t"))
    converted = probe(out)
    assert (converted.video_codec, converted.audio_codec) == ("h264", "mp3")
    assert not is_audio_only(converted)
    assert "mp4" in converted.format_name


def test_cover_art_embedded_in_an_mp3_is_not_video(tmp_path: Path) -> None:
    audio = make_audio(tmp_path, "mp3")
    tagged = tmp_path / "tagged.mp3"
    ffmpeg("-i", str(audio), "-i", str(make_image(tmp_path)), "-map", "0", "-map", "1", "-c", "copy",
           "-disposition:v", "attached_pic", str(tagged))  # fmt: skip
    info = probe(tagged)
    assert is_audio_only(info)
    out = tmp_path / "x.mp4"
    audio_to_video(tagged, None, out, Mp4Tags())
    assert len(streams(ffprobe(out), "video")) == 1


@pytest.mark.parametrize(
    ("name", "size", "expected"),
    [
        ("big.png", (3001, 1001), (1280, 426)),
        ("tall.webp", (333, 2000), (212, 1280)),
        ("tiny.png", (1, 1), (2, 2)),
        ("odd name %d: -x.gif", (101, 99), (100, 98)),
    ],
)
def test_images_of_any_size_and_format_fit_in_1280_even(
    tmp_path: Path, name: str, size: tuple[int, int], expected: tuple[int, int]
) -> None:
    out = tmp_path / "x.mp4"
    audio_to_video(make_audio(tmp_path, "m4a"), make_image(tmp_path, name, size), out, Mp4Tags())
    (video,) = streams(ffprobe(out), "video")
    assert (video["width"], video["height"]) == expected


@pytest.mark.parametrize("image", [None, "broken.jpg", "missing.png"])
def test_no_or_unreadable_image_gives_a_black_frame(tmp_path: Path, image: str | None) -> None:
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
    out = tmp_path / "x.mp4"
    audio_to_video(make_audio(tmp_path, "mp3"), tmp_path / image if image else None, out, TAGS)
    data = ffprobe(out)
    (video,) = streams(data, "video")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1280, 720)
    assert abs(float(data["format"]["duration"]) - SECONDS) < 0.5


def test_corrupt_audio_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    audio = tmp_path / "episode.mp3"
    audio.write_bytes(os.urandom(50_000))
    out = tmp_path / "episode.mp4"
    with pytest.raises(FfmpegError) as caught:
        audio_to_video(audio, make_image(tmp_path), out, TAGS)
    assert "episode.mp3" in caught.value.message
    assert caught.value.hint
    assert "\n" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cover.jpg", "episode.mp3"]


def test_a_failing_conversion_removes_its_temp_file(tmp_path: Path) -> None:
    audio = make_audio(tmp_path, "wav", seconds=600)
    out = tmp_path / "episode.mp4"
    # Re-encoding ten minutes takes seconds: the timeout stops ffmpeg half way, after it made the temp file.
    with pytest.raises(FfmpegError, match="took longer than"):
        audio_to_video(audio, make_image(tmp_path), out, TAGS, timeout=1.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cover.jpg", "tone.wav"]


def test_an_existing_output_is_replaced_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "episode.mp4"
    out.write_bytes(b"old")
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"\xff\xfb" + os.urandom(1000))
    with pytest.raises(FfmpegError):
        audio_to_video(bad, None, out, TAGS)
    assert out.read_bytes() == b"old"
    audio_to_video(make_audio(tmp_path, "mp3"), None, out, TAGS)
    assert streams(ffprobe(out), "video")


def test_missing_ffmpeg_or_ffprobe_says_what_to_install(tmp_path: Path) -> None:
    audio = make_audio(tmp_path, "mp3")
    with pytest.raises(FfmpegMissing, match="ffmpeg") as caught:
        audio_to_video(audio, None, tmp_path / "x.mp4", TAGS, ffmpeg="/nonexistent/ffmpeg")
    assert "apt-get install ffmpeg" in caught.value.hint
    with pytest.raises(FfmpegMissing, match="/nonexistent/ffprobe"):
        probe(audio, ffprobe="/nonexistent/ffprobe")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tone.mp3"]
