"""Whole-or-nothing output files: the one atomic-write helper every output uses.

``atomic_output(path)`` yields a file object; the file appears at ``path`` only when the
``with`` block ends without an error. How:

* the data goes to a temporary file with a short hidden name (``.dash-HHHH-PID-RRRRRRRR.part``,
  at most 36 bytes, so any legal target name works) in the target's own folder, so the final
  ``rename`` is atomic; it is flushed and ``fsync``-ed before the rename;
* a new file gets the mode the umask gives (like ``open(path, "w")``); an existing file keeps
  its permission bits;
* a path that is a symbolic link is written through: the link's target is replaced, the link
  stays; a path that is a character device or FIFO (``/dev/stdout``) is written directly;
* on an error, or on SIGTERM / SIGINT / SIGHUP while writing, the temporary file is removed
  (the handlers are installed only while a write is in progress, only in the main thread,
  and the previous handlers are restored afterwards); temporary files left by processes that
  were killed with SIGKILL are removed on the next write to the same folder;
* ``path == "-"`` means standard output (text only); the text is spooled and printed when
  the block succeeds, so a failing block prints nothing.

Problems the user can fix (a missing or unwritable folder, a folder given as the file, an
empty path, a name that is too long, a full disk) raise :class:`dashboard.errors.OutputError`
with one sentence.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO, Any

from dashboard.errors import OutputError

#: Signals that remove the temporary file before the process ends.
CLEANUP_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)

_TEMP_RE = re.compile(r"^\.dash-([0-9a-f]{4})-(\d+)-[0-9a-f]{8}\.part$")
_HOST_TAG = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:4]

_SPOOL_BYTES = 16 * 1024 * 1024  # standard output is buffered in memory up to this, then disk

_LEGACY_AGE_S = 60.0  # temps of earlier versions older than this are abandoned

_lock = threading.RLock()
_active: set[str] = set()  # temporary files being written by this process
_previous: dict[int, Any] = {}  # signal -> handler to restore


# ----------------------------------------------------------------------------- signals
def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Remove every temporary file of this process, then behave as the previous handler."""
    with _lock:
        for tmp in list(_active):
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        _active.clear()
        previous = dict(_previous)
        _restore_handlers()
    prev = previous.get(signum, signal.SIG_DFL)
    if callable(prev):
        prev(signum, frame)  # e.g. Python's SIGINT handler raises KeyboardInterrupt
    elif prev == signal.SIG_DFL:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)  # end as the signal would have ended us


def _install_handlers() -> None:
    if _previous or threading.current_thread() is not threading.main_thread():
        return
    for sig in CLEANUP_SIGNALS:
        try:
            current = signal.getsignal(sig)
        except (ValueError, OSError):  # pragma: no cover - platform without the signal
            continue
        if current in (signal.SIG_IGN, None):
            continue  # ignored on purpose (nohup) or set outside Python: leave it alone
        _previous[sig] = current
        signal.signal(sig, _on_signal)


def _restore_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig, handler in list(_previous.items()):
        with contextlib.suppress(ValueError, OSError, TypeError):
            if signal.getsignal(sig) is _on_signal:
                signal.signal(sig, handler)
    _previous.clear()


def _register(tmp: str) -> None:
    with _lock:
        _active.add(tmp)
        _install_handlers()


def _unregister(tmp: str) -> None:
    with _lock:
        _active.discard(tmp)
        if not _active:
            _restore_handlers()


# ---------------------------------------------------------------------------- helpers
def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:  # pragma: no cover - unusual platforms
        return True
    return True


def clean_stale_temps(folder: str | os.PathLike[str]) -> list[str]:
    """Remove temporary files in ``folder`` left by dead processes of this host; return them."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    me = os.getpid()
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if not m or m.group(1) != _HOST_TAG:
            continue
        pid = int(m.group(2))
        path = os.path.join(folder, entry.name)
        with _lock:
            ours = path in _active
        if ours or (pid != me and _pid_alive(pid)):
            continue
        try:
            os.unlink(path)
            removed.append(path)
        except OSError:
            continue
    return removed


def _clean_legacy_temps(folder: str, name: str) -> None:
    """Remove ``.NAME.XXXXXXXX.part`` files that earlier versions (``tempfile.mkstemp``) left
    for this very target when killed; only ones untouched for a minute (not being written)."""
    pattern = re.compile(r"^\." + re.escape(name) + r"\.[A-Za-z0-9_]{8}\.part$")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        if pattern.match(entry.name):
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > _LEGACY_AGE_S:
                    os.unlink(entry.path)


def _shown(path: str, limit: int = 80) -> str:
    text = path if len(path) <= limit else path[: limit - 1] + "…"
    return repr(text)


def _name_max(folder: str) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _check_target(path: str) -> tuple[str, str | None]:
    """Return (final path, None) for a regular target or (path, "direct") for a stream."""
    if path == "":
        raise OutputError("The output path is empty; give a file name such as out.csv.")
    if path.endswith(("/", os.sep)) and not os.path.isdir(path):
        raise OutputError(f"The output {_shown(path)} ends with a folder separator; give a "
                          "file name.")
    if "\x00" in path:
        raise OutputError(f"The output path {_shown(path)} contains a NUL character.")
    try:
        st = os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise OutputError(f"Cannot write {_shown(path)}: a part of the path is a file, "
                          "not a folder.") from None
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:
            raise OutputError(f"The output path {_shown(path)} is too long.") from None
        if err.errno == errno.ELOOP:
            raise OutputError(f"The output path {_shown(path)} is a loop of symbolic "
                              "links.") from None
        if err.errno in (errno.EACCES, errno.EPERM):
            raise OutputError(f"Cannot write {_shown(path)}: permission denied.") from None
        raise OutputError(f"Cannot write {_shown(path)} ({err.strerror}).") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"The output {_shown(path)} is a folder; give a file name inside it.")
    if st is not None and not stat.S_ISREG(st.st_mode):
        return path, "direct"  # a device or FIFO such as /dev/stdout: no rename possible
    target = os.path.realpath(path)  # write through symbolic links (also dangling ones)
    folder, name = os.path.split(target)
    folder = folder or "."
    if not name:
        raise OutputError(f"The output {_shown(path)} is a folder; give a file name inside it.")
    if not os.path.isdir(folder):
        raise OutputError(f"Cannot write {_shown(path)}: the folder {_shown(folder)} "
                          "does not exist.")
    limit = _name_max(folder)
    if len(os.fsencode(name)) > limit:
        raise OutputError(f"The file name {_shown(name, 40)} is too long "
                          f"({len(os.fsencode(name))} bytes; the limit is {limit}).")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"Cannot write {_shown(path)}: the folder {_shown(folder)} "
                          "is not writable.")
    return target, None


def _os_error(path: str, err: OSError) -> OutputError:
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(f"Cannot write {_shown(path)}: the disk is full; nothing was "
                           "written.")
    if err.errno == errno.EROFS:
        return OutputError(f"Cannot write {_shown(path)}: the file system is read-only.")
    if err.errno in (errno.EACCES, errno.EPERM):
        return OutputError(f"Cannot write {_shown(path)}: permission denied.")
    if err.errno == errno.ENAMETOOLONG:
        return OutputError(f"The output path {_shown(path)} is too long.")
    if err.errno == errno.EFBIG:
        return OutputError(f"Cannot write {_shown(path)}: the file is too large for the "
                           "file system.")
    return OutputError(f"Cannot write {_shown(path)} ({err.strerror or err}).")


_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO}


# ---------------------------------------------------------------------------- the API
@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], *, binary: bool = False,
                  newline: str | None = None) -> Iterator[IO[Any]]:
    """Yield a file object for ``path``; the file appears whole only if the block succeeds.

    Text files are UTF-8 with the given ``newline`` translation (as :func:`open`).
    ``path == "-"`` writes text to standard output. Raises :class:`OutputError` for paths
    the user can fix; any error inside the block removes the temporary file and leaves an
    existing file at ``path`` unchanged.
    """
    text = os.fspath(path) if not isinstance(path, str) else path
    if isinstance(text, bytes):  # pragma: no cover - bytes paths are not used here
        text = os.fsdecode(text)
    if text == "-":
        if binary:
            raise OutputError("Standard output ('-') takes text formats only; give a file "
                              "name for this format.")
        # spooled, so standard output too gets all or nothing (a failing block prints nothing)
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+",  # noqa: SIM115
                                              encoding="utf-8", newline=newline)
        with spool:
            yield spool
            spool.seek(0)
            while chunk := spool.read(1 << 20):
                sys.stdout.write(chunk)
            sys.stdout.flush()
        return
    target, mode = _check_target(text)
    if mode == "direct":
        try:
            fh: IO[Any] = (open(target, "wb") if binary  # noqa: SIM115
                           else open(target, "w", encoding="utf-8",  # noqa: SIM115
                                     newline=newline))
        except OSError as err:
            raise _os_error(text, err) from None
        with fh:
            yield fh
        return

    folder = os.path.dirname(target) or "."
    clean_stale_temps(folder)
    _clean_legacy_temps(folder, os.path.basename(target))
    tmp = os.path.join(folder, f".dash-{_HOST_TAG}-{os.getpid()}-{secrets.token_hex(4)}.part")
    _register(tmp)
    try:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                         0o666)  # the umask decides the final mode
        except OSError as err:
            raise _os_error(text, err) from None
        try:
            with contextlib.suppress(FileNotFoundError):
                existing = os.stat(target)
                if stat.S_ISREG(existing.st_mode):
                    os.chmod(fd, stat.S_IMODE(existing.st_mode))
            fh = (os.fdopen(fd, "wb") if binary
                  else os.fdopen(fd, "w", encoding="utf-8", newline=newline))
        except BaseException:
            os.close(fd)
            raise
        try:
            with fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as err:
            if err.errno in _WRITE_ERRNOS:
                raise _os_error(text, err) from None
            raise
        try:
            os.replace(tmp, target)
        except OSError as err:
            raise _os_error(text, err) from None
        _fsync_folder(folder)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # gone after a successful rename; removed after any error
        _unregister(tmp)


def _fsync_folder(folder: str) -> None:
    """Make the rename durable (best effort: not every file system allows it)."""
    try:
        dfd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def write_text(path: str | os.PathLike[str], text: str, *, newline: str | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; ``"-"`` prints it to standard output."""
    with atomic_output(path, newline=newline) as fh:
        fh.write(text)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (not to standard output)."""
    with atomic_output(path, binary=True) as fh:
        fh.write(data)


def write_with(path: str | os.PathLike[str], write: Callable[[IO[Any]], None], *,
               binary: bool = False, newline: str | None = None) -> None:
    """Call ``write(file)`` inside :func:`atomic_output` (for writers that take a file)."""
    with atomic_output(path, binary=binary, newline=newline) as fh:
        write(fh)


def display_path(path: str | os.PathLike[str]) -> str:
    """How to name an output in a message: 'standard output' for ``-``."""
    text = os.fspath(path)
    return "standard output" if text == "-" else str(Path(text))
