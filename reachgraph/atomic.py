"""Writing output files so that a crash or Ctrl-C never leaves a half-written file under the target name."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from reachgraph.errors import InputError


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write next to the target, fsync, then rename over it: the old file (or nothing) until it is complete."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("output folder does not exist", str(folder), "create it or choose another output path")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode a plain open() would
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
