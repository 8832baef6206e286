"""ffmpeg and ffprobe: probe media files; make audio episodes into MP4s that Plex shows in TV libraries."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from antenna.errors import UserError

# Codecs the mp4 muxer of Debian's ffmpeg 5.1 accepts without -strict experimental and that players expect in
# MP4. flac needs -strict experimental; vorbis muxes but hardly anything plays it from MP4: both become AAC.
COPYABLE_AUDIO = frozenset({"aac", "mp3", "alac", "ac3", "eac3", "opus"})
AAC_BITRATE = "192k"
MAX_SIDE = 1280
BLACK_FRAME = f"color=c=black:s={MAX_SIDE}x720:r=1"
# Scale down to fit MAX_SIDE (never up), even sizes for yuv420p, at least 2 px so a 1x1 image still encodes.
_FIT = f"min(1\\,{MAX_SIDE}/max(iw\\,ih))"
# The image is read and scaled once, then tpad repeats that frame: looping the input (-loop 1) would decode
# and scale a 3000 px cover 3600 times an hour, about three times slower in all.
STILL_FILTER = (
    f"scale=w='max(2,trunc({_FIT}*iw/2)*2)':h='max(2,trunc({_FIT}*ih/2)*2)',setsar=1,format=yuv420p,"
    "tpad=stop=-1:stop_mode=clone,fps=1"
)
# One frame a second and a keyframe a minute: the video track costs ~30 kbit/s at 1280x1280 (nearly all of it
# keyframes) and a seek decodes at most 60 frames.
VIDEO_ARGS = ("-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-g", "60")
# Linux caps one argv string at 128 KiB; stay well under it so a huge show note cannot break the command.
MAX_TAG_BYTES = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MULTILINE_TAGS = frozenset({"description", "synopsis", "comment"})
_ADDRESS = re.compile(r"^\[(\w+) @ 0x[0-9a-f]+\]\s*")
# Lines ffmpeg prints after the real cause; they say only that something failed.
_GENERIC = re.compile(
    r"(Conversion failed!|Exiting normally|Error marking filters as finished|"
    r"Error opening output files?|Invalid argument|Invalid data found when processing input|"
    r"Error while filtering|Error while processing the decoded data)",
)
INSTALL_HINT = "Install the Debian package ffmpeg (apt-get install ffmpeg)."


class FfmpegError(UserError):
    """ffmpeg or ffprobe failed on a file; the message carries ffmpeg's own reason."""


class FfmpegMissing(FfmpegError):
    """ffmpeg or ffprobe is not installed or cannot be run."""


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What ffprobe says about a file; attached cover pictures do not count as video."""

    duration: float | None
    audio_codec: str | None
    video_codec: str | None
    has_audio: bool
    has_video: bool
    format_name: str


@dataclass(frozen=True, slots=True)
class Mp4Tags:
    """iTunes-style MP4 tags that Plex reads from an episode file."""

    title: str = ""
    show: str = ""
    description: str = ""
    date: str = ""  # YYYY-MM-DD
    episode_id: str = ""
    season_number: int | None = None
    episode_sort: int | None = None
    comment: str = ""
    genre: str = ""


def is_audio_only(info: MediaInfo) -> bool:
    """Return True when the file has audio and no real video (a cover picture is not video)."""
    return info.has_audio and not info.has_video


def parse_probe(data: Mapping[str, Any]) -> MediaInfo:
    """Return the MediaInfo for ffprobe's JSON answer (-show_format -show_streams)."""
    streams = [s for s in data.get("streams") or [] if isinstance(s, dict)]
    fmt = data.get("format") or {}
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    video = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    duration = _float(fmt.get("duration"))
    if duration is None:
        known = [d for d in (_float(s.get("duration")) for s in audio + video) if d is not None]
        duration = max(known) if known else None
    return MediaInfo(
        duration=duration,
        audio_codec=str(audio[0]["codec_name"]) if audio and audio[0].get("codec_name") else None,
        video_codec=str(video[0]["codec_name"]) if video and video[0].get("codec_name") else None,
        has_audio=bool(audio),
        has_video=bool(video),
        format_name=str(fmt.get("format_name") or ""),
    )


def probe(path: Path, *, timeout: float = 60, ffprobe: str = "ffprobe") -> MediaInfo:
    """Return what ffprobe finds in path; FfmpegError when it is not a media file."""
    args = [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
    result = _run([*args, _file_url(path)], timeout, what=f"Probing {path.name}")
    if result.returncode != 0:
        raise FfmpegError(
            f"{path.name} is not a readable media file: {last_error_line(result.stderr)}.",
            "Check that the file is complete; download it again if it was cut short.",
        )
    try:
        data = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        raise FfmpegError(f"ffprobe gave an unreadable answer for {path.name}.") from None
    if not isinstance(data, dict):
        raise FfmpegError(f"ffprobe gave an unreadable answer for {path.name}.")
    return parse_probe(data)


def image_readable(image: Path, *, timeout: float = 60, ffmpeg: str = "ffmpeg") -> bool:
    """Return True when ffmpeg can decode one frame of image."""
    if not image.is_file():
        return False
    args = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", _file_url(image)]
    try:
        result = _run([*args, "-frames:v", "1", "-f", "null", "-"], timeout, what=f"Reading {image.name}")
    except FfmpegMissing:
        raise
    except FfmpegError:
        return False  # an image that hangs the decoder is as good as unreadable
    return result.returncode == 0


def audio_codec_args(info: MediaInfo) -> list[str]:
    """Return the audio codec options: copy what MP4 carries, otherwise AAC."""
    if info.audio_codec in COPYABLE_AUDIO:
        return ["-c:a", "copy"]
    return ["-c:a", "aac", "-b:a", AAC_BITRATE]


def clean_tag(value: str, *, multiline: bool = False) -> str:
    """Return value without NUL and control characters, capped so it fits in one argument."""
    text = _CONTROL.sub(" ", value.replace("\r\n", "\n"))
    if not multiline:
        text = " ".join(text.split())
    text = text.strip()
    encoded = text.encode("utf-8")
    if len(encoded) > MAX_TAG_BYTES:
        text = encoded[:MAX_TAG_BYTES].decode("utf-8", "ignore").rstrip()
    return text


def metadata_args(tags: Mp4Tags) -> list[str]:
    """Return -metadata options for the tags that are set; media_type 10 marks a TV show episode."""
    values: dict[str, str] = {
        "title": tags.title,
        "show": tags.show,
        "description": tags.description,
        # iTunes keeps desc short by convention; ldes (synopsis) is where long show notes go.
        "synopsis": tags.description,
        "date": tags.date,
        "episode_id": tags.episode_id,
        "season_number": _byte(tags.season_number),
        "episode_sort": _byte(tags.episode_sort),
        "genre": tags.genre,
        "comment": tags.comment,
        "media_type": "10",
    }
    args: list[str] = []
    for key, value in values.items():
        text = clean_tag(value, multiline=key in _MULTILINE_TAGS)
        if text:
            args += ["-metadata", f"{key}={text}"]
    return args


def audio_to_video_args(
    audio: Path,
    image: Path | None,
    out: Path,
    tags: Mp4Tags,
    info: MediaInfo,
    *,
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """Return the ffmpeg command muxing audio with a still of image (or a black frame) into an MP4 at out."""
    still = ["-f", "lavfi", "-i", BLACK_FRAME] if image is None else ["-i", _file_url(image)]
    # -shortest alone overshoots by the encoder's lookahead (20 s of picture at 1 fps), so cut at the probed
    # length when there is one.
    length = ["-t", f"{info.duration:.3f}"] if info.duration else []
    return [
        ffmpeg,
        *("-nostdin", "-hide_banner", "-loglevel", "error", "-y"),
        *("-i", _file_url(audio)),
        *still,
        *("-map", "0:a:0", "-map", "1:v:0", "-vf", STILL_FILTER),
        *VIDEO_ARGS,
        *audio_codec_args(info),
        *metadata_args(tags),
        *length,
        *("-shortest", "-movflags", "+faststart", "-f", "mp4", _file_url(out)),
    ]


def audio_to_video(
    audio: Path,
    image: Path | None,
    out: Path,
    tags: Mp4Tags,
    *,
    timeout: float = 3600,
    ffmpeg: str = "ffmpeg",
    ffprobe: str = "ffprobe",
) -> None:
    """Write an MP4 of audio with image as a still video track to out, via a temp file renamed on success."""
    info = probe(audio, timeout=min(timeout, 60), ffprobe=ffprobe)
    if not info.has_audio:
        raise FfmpegError(f"{audio.name} has no audio stream.", "Check that the download is an audio file.")
    if image is not None and not image_readable(image, timeout=min(timeout, 60), ffmpeg=ffmpeg):
        image = None
    temp = out.with_name(out.name + ".tmp.mp4")
    args = audio_to_video_args(audio, image, temp, tags, info, ffmpeg=ffmpeg)
    try:
        result = _run(args, timeout, what=f"Converting {audio.name}")
        if result.returncode != 0:
            raise FfmpegError(
                f"ffmpeg could not convert {audio.name} to MP4: {last_error_line(result.stderr)}.",
                "Check that the audio file is complete; download it again if it was cut short.",
            )
        # The one rename outside antenna.fs: ffmpeg writes this file itself, and the caller passes a work path
        # outside the library, then moves the result in with fs.atomic_move.
        os.replace(temp, out)  # noqa: TID251
    finally:
        temp.unlink(missing_ok=True)


def last_error_line(stderr: str) -> str:
    """Return the last line of ffmpeg's stderr that names a cause rather than just saying it failed."""
    lines = [_ADDRESS.sub(r"\1: ", line).strip() for line in stderr.splitlines()]
    lines = [line.rstrip(".") for line in lines if line]
    specific = [line for line in lines if not _GENERIC.search(line)]
    chosen = specific or lines
    return chosen[-1] if chosen else "no reason given"


def _run(args: Sequence[str], timeout: float, *, what: str) -> subprocess.CompletedProcess[str]:
    """Run a tool and return its result; a missing tool or a timeout becomes our error."""
    try:
        # subprocess.run kills the child when the timeout expires.
        return subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError):
        raise FfmpegMissing(f"{args[0]} is not installed or cannot be run.", INSTALL_HINT) from None
    except subprocess.TimeoutExpired:
        raise FfmpegError(
            f"{what} took longer than {timeout:g} s and was stopped.",
            "Try again; a very long file may need a longer timeout.",
        ) from None


def _file_url(path: Path) -> str:
    """Return path as a file: URL, so names with ':' or a leading '-' are not protocols or options."""
    return f"file:{path}"


def _byte(number: int | None) -> str:
    """Return number as text when 0..255, else ''."""
    # ffmpeg 5.1 writes tvsn/tves as 32-bit fields but keeps only the low byte (season 2024 reads as 232),
    # so larger numbers are left out and Plex takes them from the file name.
    return str(number) if number is not None and 0 <= number <= 255 else ""


def _float(value: object) -> float | None:
    """Return value as a float, or None when it is missing or not a number."""
    if not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and number >= 0 else None
