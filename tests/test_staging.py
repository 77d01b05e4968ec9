"""The staging file of a build: written in windows that the kernel writes back and drops from the
page cache (ckg.etl.staging), loaded whole."""

from __future__ import annotations

import os

import pyoxigraph as ox
import pytest

from ckg.etl import staging
from ckg.etl.staging import StagedLoad

LINE = '<http://ex.org/p{n}> <http://ex.org/title> "T{n}" <http://ex.org/g{n}> .\n'


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise on this platform")
@pytest.mark.parametrize("cut_bytes", [None, 1500])
def test_the_staging_file_is_dropped_from_the_page_cache_in_windows_and_loaded_whole(tmp_path, monkeypatch, cut_bytes):
    asked: list[tuple[int, int, int]] = []
    real = os.posix_fadvise

    def fadvise(fd, offset, length, advice):
        asked.append((offset, length, advice))
        return real(fd, offset, length, advice)

    monkeypatch.setattr(staging, "DROP_WINDOW", 200)
    monkeypatch.setattr(os, "posix_fadvise", fadvise)
    store = ox.Store()
    written = b""
    with StagedLoad(store, tmp_path / "staging.nq", cut_bytes=cut_bytes) as out:
        for n in range(60):
            text = LINE.format(n=n).encode()
            out.write(text)
            written += text
            out.paper_done()
        out.finish()
    assert len(store) == 60  # every line loaded, whatever the drops
    assert {q.object.value for q in store} == {f"T{n}" for n in range(60)}
    assert not list(tmp_path.iterdir())
    assert asked and {advice for _, _, advice in asked} == {os.POSIX_FADV_DONTNEED}
    if cut_bytes is None:  # one file: each request from a window before the end of the one before
        assert asked[0][0] == 0
        ends = [offset + length for offset, length, _ in asked]
        assert all(offset == max(0, end - 200) for (offset, _, _), end in zip(asked[1:], ends))
        assert ends[-1] <= len(written) and len(asked) >= len(written) // 300  # lines of about 70 bytes
    else:  # pieces: each file's requests start at its beginning
        assert sum(offset == 0 for offset, _, _ in asked) > 1


def test_a_failed_piece_load_is_raised_by_the_next_write_and_leaves_no_file(tmp_path, monkeypatch):
    """The loader thread's error reaches the writing thread at its next write (a 1M build whose
    disk filled in the load of its papers staged entities and resolved citations for 21 more
    minutes before `finish` raised it)."""
    from concurrent.futures import wait

    def full_disk(store, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(staging, "load_file", full_disk)
    out = StagedLoad(ox.Store(), tmp_path / "staging.nq", cut_bytes=None)
    with out:
        out.write(LINE.format(n=1).encode())
        out.hand_over()
        wait(out._loads)  # the thread has failed
        with pytest.raises(OSError, match="No space left"):
            out.write(LINE.format(n=2).encode())
        with pytest.raises(OSError, match="No space left"):
            out.check()
    assert not list(tmp_path.iterdir())
