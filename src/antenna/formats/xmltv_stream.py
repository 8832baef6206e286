"""The bytes of a guide: plain, gzip, xz or bzip2 (by magic bytes); a read that fails becomes an end."""

from __future__ import annotations

import io
import lzma
import zlib
from typing import Any, BinaryIO, cast

_GZIP = b"\x1f\x8b"
_XZ = b"\xfd7zXZ\x00"
_BZIP2 = b"BZh"


class _Prefixed(io.RawIOBase):
    """Serve the sniffed head bytes again, then the rest of the underlying stream."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        super().__init__()
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
        else:
            data = self._raw.read(size)
        buffer[: len(data)] = data
        return len(data)


class Guarded:
    """Turn a failing read (truncated gzip, dropped connection) into an end of data, remembering why.

    libxml2 then parses every byte that did arrive, so the programmes before the break are still yielded.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        if self.error is not None:
            return b""
        try:
            return self._stream.read(size)
        except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
            self.error = exc
            return b""


def open_stream(raw: BinaryIO) -> BinaryIO:
    """Return a stream of the XML in raw, decompressing gzip, xz or bzip2 by their magic bytes."""
    head = b""
    while len(head) < 6:  # a pipe or socket may return fewer bytes than asked without being at the end
        more = raw.read(6 - len(head))
        if not more:
            break
        head += more
    stream: BinaryIO
    if raw.seekable():  # a file: read it again from the start rather than through a copying wrapper
        raw.seek(-len(head), io.SEEK_CUR)
        stream = raw
    else:
        stream = io.BufferedReader(_Prefixed(head, raw), buffer_size=1 << 16)
    if head.startswith(_GZIP):
        import gzip

        return cast(BinaryIO, gzip.GzipFile(fileobj=stream, mode="rb"))
    if head.startswith(_XZ):
        return cast(BinaryIO, lzma.LZMAFile(stream))
    if head.startswith(_BZIP2):
        import bz2

        return cast(BinaryIO, bz2.BZ2File(stream))
    return stream
