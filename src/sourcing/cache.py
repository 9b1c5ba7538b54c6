"""The stage cache: results of pipeline stages kept by the key of exactly the inputs they read.

A stage's key (:func:`digest`) is a SHA-256 over the stage's name, the code that computes it
(:func:`code_fingerprint`: the package's source and the versions of the numeric libraries), the
scenario values it reads, the contents of the files it reads and its upstream stages' keys.  Equal
keys mean equal results, so a cached result is returned as it is and a change re-runs only the
stages downstream of it.

Two layers, used together by :class:`StageCache`:

* **memory**: the most recent results in this process (:data:`MEMORY_ENTRIES` of them), so a
  what-if or a second ``run`` of the same scenario in a notebook is near-instant;
* **a folder** (optional): one file per result, ``<stage>-<key>.pkl``.  The report keeps one in
  its output folder (``reports/.cache``) and hands it to the notebooks; notebooks opened by hand
  use the user's cache folder (:func:`user_cache`).

Safety.  A cache file is a pickle, and unpickling runs code, so a file is only ever loaded after
its HMAC-SHA256 has been checked against a secret key that never leaves the user's cache folder
(created with mode 0600 on first use; :func:`secret`).  A file that fails the check, cannot be
read or does not unpickle is ignored (the stage is computed again), never trusted; tender files,
scenarios and anything else that comes from outside are never unpickled.  Folders are bounded:
:data:`MAX_ENTRY_BYTES` per file, and the user cache is trimmed to :data:`USER_CACHE_BYTES`,
oldest first, removing only ``.pkl`` files whose name it wrote.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import pickle
import re
import secrets
import tempfile
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["MEMORY_ENTRIES", "StageCache", "code_fingerprint", "digest", "dumps", "file_fingerprint",
           "user_cache"]

#: Results kept in memory per process (the most recently used).
MEMORY_ENTRIES = 48
#: Largest cache file written or read, bytes; a larger result is kept in memory only.
MAX_ENTRY_BYTES = 512 * 2**20
#: The user cache folder is trimmed to this many bytes (oldest files first).
USER_CACHE_BYTES = 1 * 2**30
_NAME = re.compile(r"^[a-z_]+-[0-9a-f]{64}\.pkl$")
_MAC = 32
_MEMORY: OrderedDict[str, Any] = OrderedDict()


def digest(payload: Any) -> str:
    """SHA-256 hex digest of *payload* written as canonical JSON (sorted keys).

    Examples
    --------
    >>> digest({"a": 1, "b": 2}) == digest({"b": 2, "a": 1})
    True
    """
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Digest of the package's source files and of the numeric libraries' versions: results
    computed by other code never match."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    for dist in ("numpy", "pandas", "scipy", "scikit-criteria", "highspy", "pulp"):
        try:
            h.update(f"{dist}={version(dist)}".encode())
        except PackageNotFoundError:
            h.update(f"{dist}=none".encode())
    return h.hexdigest()


_FILES: dict[tuple, str] = {}


def file_fingerprint(path: str | os.PathLike | None) -> str | None:
    """Digest of the contents of a file, or of every file below a folder (names and bytes).

    Memoised by path, size and modification time, so a what-if does not re-read the tender.
    """
    if path is None:
        return None
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    stamp = (str(path.resolve()), tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns)
                                        for f in files))
    if stamp not in _FILES:
        h = hashlib.sha256()
        for f in files:
            h.update(f.relative_to(path).as_posix().encode() if f != path else b"")
            with f.open("rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    h.update(chunk)
        if len(_FILES) > 256:
            _FILES.clear()
        _FILES[stamp] = h.hexdigest()
    return _FILES[stamp]


def user_cache() -> Path:
    """The user's cache folder of stage results (``$SOURCING_CACHE``, else
    ``$XDG_CACHE_HOME/sourcing`` or ``~/.cache/sourcing``)."""
    if os.environ.get("SOURCING_CACHE"):
        return Path(os.environ["SOURCING_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sourcing"


def secret() -> bytes | None:
    """The key that authenticates cache files: ``key`` in :func:`user_cache`, made once with
    mode 0600; None when it can be neither read nor made (folders are then not used)."""
    folder = user_cache()
    path = folder / "key"
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
    except FileExistsError:
        pass  # made by a concurrent process meanwhile
    except OSError:
        return None
    try:
        return _read_key(path)
    except OSError:
        return None


def _read_key(path: Path) -> bytes | None:
    key = path.read_bytes()
    return key if len(key) == 32 else None


def read_only(mapping: dict) -> MappingProxyType:
    """A read-only view of *mapping* (how a pickled ``MappingProxyType`` is rebuilt)."""
    return MappingProxyType(mapping)


class _Pickler(pickle.Pickler):
    """Pickles read-only mappings (``MappingProxyType``) as the mapping they show."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is MappingProxyType:
            return read_only, (dict(obj),)
        return NotImplemented



def dumps(value: Any) -> bytes:
    """*value* pickled, read-only mappings included (a tender's settings), for the stage cache
    and for other processes; ``pickle.loads`` reads it back."""
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buf.getvalue()


class StageCache:
    """Where stage results are looked up and kept: memory, then *folder*, then *previous*.

    Parameters
    ----------
    folder : path, optional
        Folder that receives every result computed or found (created when needed).  A result found
        in *previous* or in memory is copied into it, so the folder always holds the complete run.
    previous : path, optional
        A folder read from but never written (the report's published cache while a new report is
        staged).
    memory : bool
        Use the process's memory layer.
    trim : bool
        Trim *folder* to :data:`USER_CACHE_BYTES` after writing (the user cache).
    """

    def __init__(self, folder: str | os.PathLike | None = None, *,
                 previous: str | os.PathLike | None = None, memory: bool = True,
                 trim: bool = False) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.previous = Path(previous) if previous is not None else None
        self.memory = memory
        self.trim = trim
        self._key = secret() if (self.folder or self.previous) else None

    def get(self, stage: str, key: str) -> tuple[bool, Any]:
        """``(True, value)`` when a result of *stage* with *key* is cached, else ``(False, None)``."""
        if self.memory and key in _MEMORY:
            _MEMORY.move_to_end(key)
            value = _MEMORY[key]
            self._write(stage, key, value)
            return True, value
        for folder in (self.folder, self.previous):
            found, value = self._read(folder, stage, key)
            if found:
                self._remember(key, value)
                if folder is not self.folder:
                    self._write(stage, key, value)
                return True, value
        return False, None

    def put(self, stage: str, key: str, value: Any) -> None:
        """Keep *value* as the result of *stage* with *key*."""
        self._remember(key, value)
        self._write(stage, key, value)

    def _remember(self, key: str, value: Any) -> None:
        if self.memory:
            _MEMORY[key] = value
            _MEMORY.move_to_end(key)
            while len(_MEMORY) > MEMORY_ENTRIES:
                _MEMORY.popitem(last=False)

    def _path(self, folder: Path, stage: str, key: str) -> Path:
        return folder / f"{stage}-{key}.pkl"

    def _read(self, folder: Path | None, stage: str, key: str) -> tuple[bool, Any]:
        if folder is None or self._key is None:
            return False, None
        path = self._path(folder, stage, key)
        try:
            if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_ENTRY_BYTES:
                return False, None
            blob = path.read_bytes()
        except OSError:
            return False, None
        mac, body = blob[:_MAC], blob[_MAC:]
        if len(mac) != _MAC or not hmac.compare_digest(
                mac, hmac.new(self._key, key.encode() + body, hashlib.sha256).digest()):
            return False, None  # not written by us under this key, or altered: never unpickled
        try:
            return True, pickle.loads(body)  # noqa: S301 (authenticated above)
        except Exception:  # an authenticated file from an incompatible environment
            return False, None

    def _write(self, stage: str, key: str, value: Any) -> None:
        if self.folder is None or self._key is None:
            return
        path = self._path(self.folder, stage, key)
        if path.is_file():
            return
        try:
            body = dumps(value)
        except (pickle.PicklingError, TypeError, AttributeError):
            return  # kept in memory only
        if len(body) > MAX_ENTRY_BYTES:
            return
        mac = hmac.new(self._key, key.encode() + body, hashlib.sha256).digest()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{stage}-", suffix=".tmp", dir=self.folder)
            with os.fdopen(fd, "wb") as fh:
                fh.write(mac + body)
            os.chmod(tmp, 0o644 & ~_umask())
            os.replace(tmp, path)
        except OSError:
            return  # a cache that cannot be written is no error: the result is in memory
        if self.trim:
            _trim(self.folder, USER_CACHE_BYTES)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _trim(folder: Path, limit: int) -> None:
    """Remove the oldest cache files of ours (by name) until *folder* holds at most *limit*."""
    try:
        files = [(p.stat().st_mtime, p.stat().st_size, p) for p in folder.iterdir()
                 if _NAME.match(p.name) and p.is_file() and not p.is_symlink()]
    except OSError:
        return
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= limit:
            break
        try:
            path.unlink()
            total -= size
        except OSError:
            pass
