"""The per-programme half of the XMLTV guide merge, in a worker process once a guide proves big.

The guide merge has two halves of about equal cost on a big guide (bench/iptv.py): reading (lxml's parser,
the channel filter, serialising each programme) and everything after (which merged channels a programme goes
to, coverage counts, the Plex pass of plex_xml on the serialised bytes). With two cores, the second half runs
in one spawned worker that holds a copy of the GuideMerger while this process reads on, so the merge takes
about the reading's time. A guide smaller than one batch, a machine with one core, or a merge that also has
JSONTV sources runs both halves here. A worker that dies fails the merge with a clear message; the outputs
are written atomically, so the last good ones stay.
"""

from __future__ import annotations

import array
import contextlib
import multiprocessing
import os
import pickle
import queue
import tempfile
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Self

from antenna.formats.xmltv import GuideError
from antenna.iptv import plex_xml
from antenna.iptv.guide_merge import GuideMerger

BATCH = 2048  # programmes per batch: ~2 MB of XML
QUEUED = 4  # batches waiting for the pipe: the reader runs ahead of a worker busy with one

Block = tuple[bytes, int]  # indented programmes ready for XmltvWriter.raw_block, and how many
FileBlock = tuple[bytes | Path, int]  # ... or a file holding them


class _Batch:
    """Programmes read but not merged yet: their XML, guide channel and times, in three flat lists."""

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.channels: list[str] = []
        self.times = array.array("q")  # start, stop (-1: none) per programme

    def __len__(self) -> int:
        return len(self.data)


def merge_batch(
    merger: GuideMerger, source_id: int, later: bool, batch: _Batch, lang: str
) -> tuple[bytes, int]:
    """Merge a batch from one source; return the Plex programmes as one indented block, and how many."""
    out: list[bytes] = []
    accept, retag, finish = merger.accept, plex_xml.retag, plex_xml.finish
    times = batch.times
    for index, (data, channel) in enumerate(zip(batch.data, batch.channels, strict=True)):
        start, stop = times[2 * index], times[2 * index + 1]
        for channel_id in accept(source_id, channel, start, stop, later):
            tagged, aired = retag(data, channel_id, start, stop)
            done = finish(tagged, aired, lang=lang)
            if done is None:
                merger.untitled += 1
            else:
                out.append(done)
    if not out:
        return b"", 0
    return b"  " + b"\n  ".join(out) + b"\n", len(out)


def _serve(conn: Connection, path: str, lang: str) -> None:
    """The worker: merge what it is sent into the file at path; send the merger's counts back at the end."""
    try:
        _merge_into(conn, path, lang)
    except EOFError:
        pass  # the merge stopped (an error in the guide): nothing more to do
    finally:
        conn.close()


def _merge_into(conn: Connection, path: str, lang: str) -> None:
    merger: GuideMerger = pickle.loads(conn.recv_bytes())
    source_id, later, count = 0, False, 0
    with open(path, "wb") as out:
        while (head := conn.recv_bytes()) != b"E":
            if head[:1] == b"S":  # the next source
                source_id = int(head[1:])
                later = merger.begin(source_id)
                continue
            if head[:1] == b"C":  # the source this process had begun when it started the worker
                source_id, later = int(head[1:].split(b",")[0]), head.endswith(b",1")
                continue
            batch = _Batch()
            batch.data = head[1:].split(b"\0")
            batch.channels = conn.recv_bytes().decode().split("\0")
            batch.times.frombytes(conn.recv_bytes())
            block, done = merge_batch(merger, source_id, later, batch, lang)
            out.write(block)
            count += done
    conn.send((count, merger.state()))


class GuidePipe:
    """Takes the programmes of guide sources in priority order and hands back Plex programme blocks.

    Without a worker, each full batch is merged here at once. With one, a sender thread writes batches down a
    pipe; at most QUEUED wait for it, so a busy worker makes the reader wait and memory stays flat. The worker
    writes a temporary file, which flush hands back at the end. The worker answers only after the last
    batch, so neither side can wait on the other while the other waits on the pipe.
    """

    def __init__(
        self,
        merger: GuideMerger,
        lang: str,
        *,
        parallel: bool | None = None,
        temp_dir: str | None = None,
        batch: int = BATCH,
    ) -> None:
        self._merger = merger
        self._lang = lang
        self._parallel = (os.cpu_count() or 1) > 1 if parallel is None else parallel
        self._temp_dir = temp_dir
        self._size = batch
        self._batch = _Batch()
        self._source = 0
        self._later = False
        self._worker: BaseProcess | None = None
        self._conn: Connection | None = None
        self._path = ""
        # Batches wait here for the sender thread; before it starts, the first messages are only queued.
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=QUEUED)
        self._sender: threading.Thread | None = None
        self._send_error: OSError | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def begin(self, source_id: int) -> list[Block]:
        """Start the next guide source; return the blocks the previous one finished meanwhile."""
        blocks = self._submit() if len(self._batch) else []
        self._source = source_id
        if self._conn is not None:
            self._send([b"S%d" % source_id])
        else:
            self._later = self._merger.begin(source_id)
        return blocks

    def add(self, data: bytes, channel: str, start: int, stop: int) -> list[Block]:
        """Add a serialised programme (epoch seconds; stop -1 when none); return blocks finished meanwhile."""
        batch = self._batch
        batch.data.append(data)
        batch.channels.append(channel)
        batch.times.append(start)
        batch.times.append(stop)
        if len(batch.data) < self._size:
            return []
        return self._submit()

    def flush(self) -> Iterator[FileBlock]:
        """Yield every remaining block, in order; with a worker, one file holding them all. The merger then
        holds every source's counts."""
        if len(self._batch):
            yield from self._submit()
        if self._conn is None:
            return
        self._send([b"E"])
        self._stop_sender()
        if self._send_error is not None:
            raise self._failed() from self._send_error
        try:
            count, state = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise self._failed() from exc
        self._merger.adopt(state)
        yield Path(self._path), count  # valid until close: the caller copies it (the kernel can)

    def close(self) -> None:
        """Stop the worker (dropping unfinished batches after an error) and remove its file."""
        self._stop_sender()
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

    def _submit(self) -> list[Block]:
        batch, self._batch = self._batch, _Batch()
        # The first full batch starts the worker; a guide that never fills one is done here.
        if self._parallel and self._conn is None and len(batch) >= self._size:
            self._start()
        if self._conn is not None:
            # Three flat messages, not a pickled list: lxml never writes a NUL, nor can XML hold one.
            self._send(
                [b"D" + b"\0".join(batch.data), "\0".join(batch.channels).encode(), batch.times.tobytes()]
            )
            return []
        return [merge_batch(self._merger, self._source, self._later, batch, self._lang)]

    def _start(self) -> None:
        fd, self._path = tempfile.mkstemp(prefix="antenna-guide-", suffix=".xml", dir=self._temp_dir)
        os.close(fd)
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        worker = context.Process(target=_serve, args=(theirs, self._path, self._lang), daemon=True)
        try:
            worker.start()
        except (OSError, RuntimeError):  # no process to be had (limits, a daemonic parent): merge here
            ours.close()
            self._parallel = False
            self.close()
            return
        finally:
            theirs.close()
        self._worker, self._conn = worker, ours
        # The worker continues from this merger's state: earlier sources' counts and covered times.
        self._send([pickle.dumps(self._merger), b"C%d,%d" % (self._source, self._later)])
        self._sender = threading.Thread(target=self._sending, name="guide-sender", daemon=True)
        self._sender.start()

    def _send(self, messages: list[bytes]) -> None:
        """Queue messages for the worker (waits while QUEUED batches are ahead of them)."""
        if self._send_error is not None:
            raise self._failed() from self._send_error
        self._queue.put(messages)

    def _sending(self) -> None:
        """The sender thread: the pipe write waits for the worker, this process's reading does not."""
        assert self._conn is not None
        while (messages := self._queue.get()) is not None:
            if self._send_error is not None:
                continue  # drain until told to stop
            try:
                for message in messages:
                    self._conn.send_bytes(message)
            except OSError as exc:
                self._send_error = exc

    def _stop_sender(self) -> None:
        if self._sender is None:
            return
        self._queue.put(None)
        self._sender.join()
        self._sender = None

    def _failed(self) -> GuideError:
        code = None
        if self._worker is not None:
            self._worker.join(timeout=1)  # a dead worker's exit code is known once it is reaped
            code = self._worker.exitcode
        return GuideError(f"the guide worker stopped unexpectedly (exit code {code})")
