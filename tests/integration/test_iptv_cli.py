"""`antenna iptv …` as a real child process: sources, refresh, channels, report, overrides, offline merge."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.test_iptv import Provider, guide, playlist
from tests.support import run_cli

pytestmark = pytest.mark.slow
WIDE = {"COLUMNS": "250"}
Result = subprocess.CompletedProcess[str]


def ok(result: Result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_sources_refresh_channels_report_and_overrides(data_dir: Path) -> None:
    with Provider() as provider:
        out = ok(
            run_cli(
                data_dir, "iptv", "source", "add", "Prov", f"{provider.base}/list.m3u", "--role", "channels"
            )
        )
        assert "Added IPTV source Prov" in out
        ok(
            run_cli(
                data_dir, "iptv", "source", "add", "Guide", f"{provider.base}/guide.xml", "--role", "guide"
            )
        )
        bad = run_cli(data_dir, "iptv", "source", "add", "Bad", "ftp://x", "--kind", "url")
        assert bad.returncode == 2
        assert "not an http(s) URL" in bad.stderr
        assert "xmltv" in ok(run_cli(data_dir, "iptv", "source", "test", "Guide"))
        queued = ok(run_cli(data_dir, "iptv", "refresh"))
        assert "Queued IPTV refresh" in queued
        done = ok(run_cli(data_dir, "iptv", "refresh", "--wait"))
        assert "succeeded" in done
        assert "3 channels" in done
        channels = json.loads(ok(run_cli(data_dir, "iptv", "channels", "--json")))
        assert [c["number"] for c in channels] == ["1", "2", "3"]
        ok(
            run_cli(
                data_dir, "iptv", "channel", "set", "Prov", "No Guide", "--number", "50", "--name", "Spare"
            )
        )
        ok(run_cli(data_dir, "iptv", "refresh", "--wait"))
        report = ok(run_cli(data_dir, "iptv", "report", env=WIDE))
        assert "renamed" in report
        assert "source Prov: " in report
        listed = ok(run_cli(data_dir, "iptv", "source", "list", env=WIDE))
        assert "Prov" in listed
        assert (data_dir / "iptv" / "playlist.m3u").read_text().count("#EXTINF") == 3
        assert "Removed IPTV source Guide" in ok(run_cli(data_dir, "iptv", "source", "remove", "Guide"))


def test_offline_merge(tmp_path: Path, data_dir: Path) -> None:
    from datetime import UTC, datetime

    (tmp_path / "list.m3u").write_text(playlist())
    (tmp_path / "guide.xml").write_text(guide(datetime.now(UTC).replace(minute=0, second=0, microsecond=0)))
    out = ok(
        run_cli(
            data_dir,
            "iptv",
            "merge",
            str(tmp_path / "list.m3u"),
            str(tmp_path / "guide.xml"),
            "--m3u",
            str(tmp_path / "out.m3u"),
            "--xmltv",
            str(tmp_path / "out.xml.gz"),
            "--json",
        )
    )
    report = json.loads(out)
    assert report["channels"] == 3
    assert report["programmes"] == 24
    assert (tmp_path / "out.xml.gz").read_bytes()[:2] == b"\x1f\x8b"
    html = tmp_path / "page.m3u"
    html.write_text("<!DOCTYPE html><html><body>blocked</body></html>")
    refused = run_cli(data_dir, "iptv", "merge", str(html), "--m3u", str(tmp_path / "x.m3u"))
    assert refused.returncode == 2
    assert "HTML" in refused.stderr or "web page" in refused.stderr


def test_offline_playlist_merge_streams_what_the_full_merge_writes(tmp_path: Path, data_dir: Path) -> None:
    # Without --xmltv the playlist is streamed from the source (engine.stream_playlist); with it, the full
    # merge runs. Presets out of order, a duplicate, a clash and a stray ch-number must come out the same.
    lines = ["#EXTM3U"]
    for n in range(1, 301):
        preset = f' tvg-chno="{n + 5}"' if n % 7 == 0 else (' ch-number="3"' if n % 50 == 0 else "")
        tvg_id = "dup" if n in (10, 20) else f"id{n}"
        lines += [f'#EXTINF:-1 tvg-id="{tvg_id}"{preset} group-title="G{n % 3}",Chan {n}', f"http://p/{n}.ts"]
    (tmp_path / "list.m3u").write_text("\n".join(lines) + "\n")
    runs = {}
    for name, extra in (("streamed", []), ("full", ["--xmltv", str(tmp_path / "full.xml")])):
        args = ["iptv", "merge", str(tmp_path / "list.m3u"), "--m3u", str(tmp_path / f"{name}.m3u"), *extra]
        runs[name] = (ok(run_cli(data_dir, *args)), json.loads(ok(run_cli(data_dir, *args, "--json"))))
    assert runs["streamed"] == runs["full"]
    assert (tmp_path / "streamed.m3u").read_bytes() == (tmp_path / "full.m3u").read_bytes()
    assert runs["streamed"][1]["channels"] == 299
    assert any("already taken" in w for w in runs["streamed"][1]["warnings"])


def _big_guide(path: Path, per_channel: int) -> None:
    """Three channels of five-minute programmes from two hours ago (all inside the merge window)."""
    from datetime import UTC, datetime, timedelta

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<tv>']
    for ch in range(1, 4):
        parts.append(f'<channel id="c{ch}"><display-name>Channel {ch}</display-name></channel>')
    for ch in range(1, 4):
        for n in range(per_channel):
            at, end = start + timedelta(minutes=5 * n), start + timedelta(minutes=5 * n + 5)
            parts.append(
                f'<programme start="{at:%Y%m%d%H%M%S} +0000" stop="{end:%Y%m%d%H%M%S} +0000" channel="c{ch}">'
                f"<title>Show {n} &amp; more</title><category>{'Film' if n % 5 else 'Drama'}</category>"
                "</programme>"
            )
    parts.append("</tv>\n")
    path.write_text("\n".join(parts))


def _merge_guide(guide: Path, out: Path, scratch: Path, data_dir: Path) -> Result:
    """Run the offline merge of one guide with TMPDIR in scratch (made here), so leftovers can be seen."""
    scratch.mkdir()
    env = {"TMPDIR": str(scratch)}
    return run_cli(data_dir, "iptv", "merge", str(guide), "--xmltv", str(out), "--json", env=env)


def test_offline_merge_of_a_guide_bigger_than_a_batch_uses_the_worker(tmp_path: Path, data_dir: Path) -> None:
    """Several batches of programmes: merged by the spawned worker, copied into the output in order."""
    from lxml import etree

    from antenna.iptv.finisher import BATCH

    per_channel = 2 * BATCH // 3 + 10  # three channels make more than two batches
    _big_guide(tmp_path / "guide.xml", per_channel)
    out, scratch = tmp_path / "out.xml", tmp_path / "scratch"
    report = json.loads(ok(_merge_guide(tmp_path / "guide.xml", out, scratch, data_dir)))
    assert report["programmes"] == 3 * per_channel
    doc = etree.parse(str(out))
    programmes = doc.findall("programme")
    assert len(programmes) == 3 * per_channel
    starts = [p.get("start") for p in programmes if p.get("channel") == programmes[0].get("channel")]
    assert starts == sorted(starts)  # batches came back in their order
    assert {p.findtext("category") for p in programmes} == {"Movie", "Series"}
    dtd = Path("/usr/share/xmltv/xmltv.dtd")
    if dtd.exists():
        assert etree.DTD(str(dtd)).validate(doc)
    assert list(scratch.iterdir()) == []  # the worker's file is gone


def test_offline_merge_of_a_big_guide_cut_short_fails_cleanly(tmp_path: Path, data_dir: Path) -> None:
    """A guide truncated after the worker started: one clear line, no output, no worker file, no traceback."""
    from antenna.iptv.finisher import BATCH

    _big_guide(tmp_path / "guide.xml", 2 * BATCH)
    data = (tmp_path / "guide.xml").read_bytes()
    (tmp_path / "guide.xml").write_bytes(data[: len(data) * 2 // 3])
    out, scratch = tmp_path / "out.xml", tmp_path / "scratch"
    result = _merge_guide(tmp_path / "guide.xml", out, scratch, data_dir)
    assert result.returncode == 2, result.stderr
    assert "truncated" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert list(scratch.iterdir()) == []
