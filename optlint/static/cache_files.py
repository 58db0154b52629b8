"""Files optlint keeps for itself (results, compiled code, its key), written without following a symlink.

Every write goes to a fresh temporary file in the same folder (O_CREAT|O_EXCL|O_NOFOLLOW: never an
existing file, never through a link) renamed over the final name, which replaces a link there rather
than writing to its target; readers see the old file or the new one, never half of one. Names are
relative to a folder descriptor, so swapping a folder of the path for a link midway changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import stat

# Without descriptor-relative calls (Windows) there is no way to write safely in a folder others shape.
SUPPORTED = ({os.open, os.rename, os.link, os.unlink} <= os.supports_dir_fd  # os.replace is os.rename's
             and os.scandir in os.supports_fd and hasattr(os, "O_NOFOLLOW"))
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def open_folder(path: str | os.PathLike, *, create: bool, follow: bool = False) -> int:
    """A descriptor of the folder, made when `create`; OSError when it is a link (unless `follow`) or
    not a folder. The caller closes it."""
    if create:
        with contextlib.suppress(FileExistsError):  # mkdir never follows a link in the last place
            os.makedirs(path, exist_ok=False)
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
    return os.open(path, flags if follow else flags | os.O_NOFOLLOW)


def write(folder: int, name: str, data: bytes, mode: int = 0o644) -> None:
    """Put `data` under `name` in the folder, atomically; OSError when that cannot be done."""
    temporary = _temporary_copy(folder, name, data, mode)
    try:
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:
        _remove(folder, temporary)
        raise


def create(folder: int, name: str, data: bytes, mode: int) -> bool:
    """Put `data` under `name` unless something is there already (then False); never half-written."""
    temporary = _temporary_copy(folder, name, data, mode)
    try:
        os.link(temporary, name, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
        return True
    except FileExistsError:
        return False
    finally:
        _remove(folder, temporary)


def _temporary_copy(folder: int, name: str, data: bytes, mode: int) -> str:
    """A new file holding `data`, with a name no one could have prepared."""
    temporary = f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
    descriptor = os.open(temporary, _NEW, mode, dir_fd=folder)
    try:
        with open(descriptor, "wb") as file:
            file.write(data)
    except OSError:
        _remove(folder, temporary)
        raise
    return temporary


def _remove(folder: int, temporary: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temporary, dir_fd=folder)  # the file this call made, nothing else


def read_own(folder: int, name: str, *, private: bool = False, limit: int = -1) -> bytes | None:
    """The content (its first `limit` bytes) of a regular file of this user, one no one else may read or
    write when `private`; None for a link, a device, another's file, or none at all."""
    try:
        descriptor = os.open(name, _READ, dir_fd=folder)
    except OSError:
        return None
    with open(descriptor, "rb") as file:
        status = os.fstat(descriptor)
        if not (stat.S_ISREG(status.st_mode) and status.st_uid == os.geteuid()):
            return None
        if private and status.st_mode & 0o077:
            return None
        try:
            return file.read(limit)
        except OSError:
            return None
