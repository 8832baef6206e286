"""Plex's per-programme fixes (plex_xml.finish) in batches: in a worker process once a guide proves big.

Reading the guide (lxml's parser, the window and channel selection, serialising each programme) and patching
the serialised programmes take about the same time on a big guide (bench/iptv.py), so with two cores the
patching runs in one spawned worker while this process reads on: the merge takes about the reading's time.
A guide smaller than one batch, or a machine with one core, is finished in this process; a worker that dies
fails the merge with a clear message (the outputs are written atomically, so the last good ones stay).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Self

from antenna.formats.xmltv import GuideError
from antenna.iptv import plex_xml

BATCH = 2048  # programmes per batch: ~2 MB of XML

Block = tuple[bytes, int]  # indented programmes ready for XmltvWriter.raw_block, and how many
FileBlock = tuple[bytes | Path, int]  # ... or a file holding them


Prepared = tuple[bytes, bytes, str]  # plex_xml.prepare's result


def finish_batch(data: list[Prepared], lang: str) -> tuple[bytes, int, int]:
    """Finish prepared programmes; return them as one indented block, how many, and how many had no title."""
    out: list[bytes] = []
    finish = plex_xml.finish
    for item, head, aired in data:
        done = finish(item, head, aired, lang=lang)
        if done is not None:
            out.append(done)
    if not out:
        return b"", 0, len(data)
    return b"  " + b"\n  ".join(out) + b"\n", len(out), len(data) - len(out)


def _serve(conn: Connection, path: str, lang: str) -> None:
    """The worker: finish each batch received into the file at path; send the counts once told to stop."""
    count = untitled = 0
    with open(path, "wb") as out:
        while data := conn.recv_bytes():
            heads, aired = conn.recv_bytes().split(b"\0"), conn.recv_bytes().decode().split("\0")
            batch = list(zip(data.split(b"\0"), heads, aired, strict=True))
            block, done, skipped = finish_batch(batch, lang)
            out.write(block)
            count += done
            untitled += skipped
    conn.send((count, untitled))
    conn.close()


class Finisher:
    """Collects prepared programmes and hands back finished blocks in their order.

    Without a worker, each full batch is finished at once. With one, batches go down a pipe (its buffer is
    the only queue: a busy worker makes the sender wait, so memory stays flat) and the worker writes a
    temporary file, which flush hands back in pieces at the end. The worker answers only after the last
    batch, so neither side can wait on the other while the other waits on the pipe.
    """

    def __init__(
        self, lang: str, *, parallel: bool | None = None, temp_dir: str | None = None, batch: int = BATCH
    ) -> None:
        self._lang = lang
        self._batch = batch
        self._parallel = (os.cpu_count() or 1) > 1 if parallel is None else parallel
        self._temp_dir = temp_dir
        self._data: list[Prepared] = []
        self._worker: BaseProcess | None = None
        self._conn: Connection | None = None
        self._path = ""
        self.untitled = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def add(self, prepared: Prepared) -> list[Block]:
        """Add one prepared programme; return the blocks finished meanwhile (none while a worker runs)."""
        self._data.append(prepared)
        if len(self._data) < self._batch:
            return []
        data, self._data = self._data, []
        if self._parallel and self._conn is None:
            self._start()
        if self._conn is not None:
            self._send(data)
            return []
        return [self._done(finish_batch(data, self._lang))]

    def flush(self) -> Iterator[FileBlock]:
        """Yield every remaining block, in order; with a worker, one file holding them all."""
        data, self._data = self._data, []
        if self._conn is None:
            if data:
                yield self._done(finish_batch(data, self._lang))
            return
        if data:
            self._send(data)
        conn = self._conn
        try:
            conn.send_bytes(b"")
            count, untitled = conn.recv()
        except (EOFError, OSError) as exc:
            raise self._failed() from exc
        self.untitled += untitled
        yield Path(self._path), count  # valid until close: the caller copies it (the kernel can)

    def close(self) -> None:
        """Stop the worker (dropping unfinished batches after an error) and remove its file."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._worker is not None:
            self._worker.join(timeout=5)
            if self._worker.is_alive():
                self._worker.kill()
                self._worker.join()
            self._worker = None
        if self._path:
            with contextlib.suppress(OSError):
                os.unlink(self._path)
            self._path = ""

    def _start(self) -> None:
        fd, self._path = tempfile.mkstemp(prefix="antenna-guide-", suffix=".xml", dir=self._temp_dir)
        os.close(fd)
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        worker = context.Process(target=_serve, args=(theirs, self._path, self._lang), daemon=True)
        try:
            worker.start()
        except (OSError, RuntimeError):  # no process to be had (limits, a daemonic parent): finish here
            ours.close()
            self._parallel = False
            self.close()
            return
        finally:
            theirs.close()
        self._worker, self._conn = worker, ours

    def _send(self, data: list[Prepared]) -> None:
        assert self._conn is not None
        try:
            # Three flat messages, not a pickled list: lxml never writes a NUL, so it can separate items.
            self._conn.send_bytes(b"\0".join([item[0] for item in data]))
            self._conn.send_bytes(b"\0".join([item[1] for item in data]))
            self._conn.send_bytes("\0".join([item[2] for item in data]).encode())
        except OSError as exc:
            raise self._failed() from exc

    def _failed(self) -> GuideError:
        code = self._worker.exitcode if self._worker is not None else None
        return GuideError(f"the guide worker stopped unexpectedly (exit code {code})")

    def _done(self, result: tuple[bytes, int, int]) -> Block:
        block, count, untitled = result
        self.untitled += untitled
        return block, count
