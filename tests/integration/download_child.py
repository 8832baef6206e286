"""Child process for the kill -9 test: download argv[1] into argv[2] (key argv[3]), printing progress."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from antenna.clients.download import Downloader, DownloadRequest


async def main(url: str, dest: Path, key: str) -> None:
    """Fetch url into dest; the parent kills us part-way."""
    async with Downloader(retries=0) as downloader:
        result = await downloader.fetch(
            DownloadRequest(url, dest, key=key),
            lambda done, total: print(done, total, flush=True),
        )
    print("done", result.size, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3]))
