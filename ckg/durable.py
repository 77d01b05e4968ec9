"""Durable files: what a store's commit point needs to survive a power loss.

``os.replace`` makes a file change atomic, not durable: until the file's data and the folder
entry are on disk, a power loss can leave the old file, an empty one, or none. The helpers here
write through a temporary file, ``fsync`` it, rename it over the target and ``fsync`` the folder.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> write_atomic(folder / "CURRENT", '{"generation": "000001"}\\n')
>>> (folder / "CURRENT").read_text()
'{"generation": "000001"}\\n'
>>> sorted(p.name for p in folder.iterdir())  # no temporary file is left
['CURRENT']
"""

from __future__ import annotations

import os
from pathlib import Path

from ckg import faults


def fsync_file(path: Path) -> None:
    """Flush a file's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (files created, renamed or deleted in it) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush every file and folder under ``path`` (and ``path`` itself) to disk. Files already on
    disk cost a system call each (hard links of a database checkpoint, for example)."""
    for root, dirs, files in os.walk(path):
        for name in files:
            file = os.path.join(root, name)
            if not os.path.islink(file):
                fsync_file(Path(file))
        fsync_dir(Path(root))


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replace ``path`` with ``text``, atomically and durably: readers see the old content or the
    new one, and after a crash the file holds one of them."""
    path = Path(path)
    data = text.encode("utf-8") if isinstance(text, str) else text
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    faults.point("atomic.rename")
    os.replace(tmp, path)
    fsync_dir(path.parent)


def symlink_atomic(target: str, path: Path) -> None:
    """Make ``path`` a symbolic link to ``target`` (replacing what was there atomically), durably."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def is_temporary(name: str) -> bool:
    """True for the name of a temporary file of :func:`write_atomic` or :func:`symlink_atomic`
    (a crash can leave one behind).

    >>> is_temporary(".CURRENT.4242.tmp"), is_temporary("CURRENT")
    (True, False)
    """
    return name.startswith(".") and name.endswith(".tmp")
