"""Getting a source's data onto disk: URLs (conditional GET) and local files; the last good copy is kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from antenna.clients.http_source import fetch
from antenna.errors import UserError
from antenna.formats.detect import describe, detect
from antenna.fs import atomic_writer, ensure_dir
from antenna.redact import redact


@dataclass(frozen=True, slots=True)
class Download:
    """What a refresh of a URL source got."""

    path: Path
    changed: bool
    etag: str = ""
    last_modified: str = ""
    moved_to: str = ""


def download(
    url: str,
    dest: Path,
    *,
    etag: str = "",
    last_modified: str = "",
    user_agent: str = "",
    timeout: float = 60.0,
    secrets: tuple[str, ...] = (),
) -> Path:
    """Download url into dest (atomically) and return dest; an HTML answer is refused and dest left alone."""
    return fetch_to(
        url,
        dest,
        etag=etag,
        last_modified=last_modified,
        user_agent=user_agent,
        timeout=timeout,
        secrets=secrets,
    ).path


def fetch_to(
    url: str,
    dest: Path,
    *,
    etag: str = "",
    last_modified: str = "",
    user_agent: str = "",
    timeout: float = 60.0,
    secrets: tuple[str, ...] = (),
) -> Download:
    """Conditionally GET url into dest; 304 keeps dest as it is; a web page instead of data is an error."""
    ensure_dir(dest.parent)
    with fetch(
        url, etag=etag, last_modified=last_modified, user_agent=user_agent, timeout=timeout, secrets=secrets
    ) as (answer, chunks):
        if answer.unchanged:
            return Download(dest, False, etag, last_modified, answer.permanent_redirect)
        with atomic_writer(dest) as out:
            first = True
            for chunk in chunks:
                if first and chunk:
                    kind = detect(chunk[:65536])
                    if kind == "html":
                        # The old copy stays: providers answer 200 with an error page when they block us.
                        raise UserError(f"{redact(answer.url, secrets)} answered {describe(kind)}.")
                    first = False
                out.write(chunk)
    return Download(dest, True, answer.etag, answer.last_modified, answer.permanent_redirect)
