"""Output folders: the one place where ``sourcing`` writes result sets to disk.

Every command that writes several files (``sourcing report``, ``sourcing run``) stages the whole
result set in a hidden sibling folder and publishes it with :func:`publish`; single files
(``sourcing template``) go through :func:`sourcing.io.atomic_path` after :func:`check_file_target`.
The rules, held here once:

* A folder we write into carries a marker file, :data:`MARKER`, listing the files of the result
  set we wrote.  We only ever replace or remove files that our own marker lists.
* A folder that exists, is not empty and carries no marker is **not ours**: publishing into it is
  refused (:class:`OutputError`) unless ``force=True``; even then only the files of the new result
  set are written (a file of the same name is replaced) and no other file is touched.
* A file where a folder is asked for is refused, forced or not.
* A result set is swapped as a whole: when the folder holds only our previous result set, the
  staged folder is renamed into place (the previous set is removed only after the rename
  succeeded).  A folder that also holds foreign files (forced) gets the new files moved in one by
  one and the files of the previous set that the new set no longer has removed; the marker is
  written last.
* A failed run leaves the previous result set untouched: nothing is published before the staging
  is complete, and the staging folder is removed.  A staging folder carries
  :data:`STAGING_MARKER` (the process that stages into it): a run killed outright leaves it, and
  the next run into the same target removes it once that process is gone.
* A target that is a symbolic link, or lies below a file, is refused in one line: we never
  write through a link nor replace one.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["MARKER", "STAGING_MARKER", "OutputError", "check_file_target", "publish", "staged"]

#: Name of the marker file that makes a folder ours (JSON: tool, version, files, written).
MARKER = ".sourcing-output.json"


class OutputError(RuntimeError):
    """An output target we must not write to; the message says why and what to do instead."""


def _read_marker(folder: Path) -> set[str] | None:
    """Files listed by the marker of *folder*, or None when the folder carries no valid marker."""
    path = folder / MARKER
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != "sourcing" or not isinstance(
            data.get("files"), list):
        return None
    return {str(f) for f in data["files"] if isinstance(f, str)}


def _files_below(folder: Path) -> set[str]:
    """Relative POSIX paths of every file below *folder*; links count as files and an empty
    folder as ``name/`` (so a user's empty folder is foreign too)."""
    out = set()
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        for name in files + [d for d in dirs if (base / d).is_symlink()]:
            out.add((base / name).relative_to(folder).as_posix())
        if not files and not dirs and base != folder:
            out.add(base.relative_to(folder).as_posix() + "/")
    return out


def _foreign(out: Path, previous: set[str] | None) -> set[str]:
    """Files below *out* that no marker claims: neither *out*'s own nor that of a sub-folder
    which is itself one of our result sets (e.g. a notebook's artefacts inside a report)."""
    ours = {str(Path(m).parent.as_posix()) for m in _files_below(out)
            if Path(m).name == MARKER and _read_marker(out / Path(m).parent) is not None}
    return {f for f in _files_below(out) - (previous or set()) - {MARKER}
            if not any(f.startswith(d + "/") for d in ours if d != ".")}


def _write_marker(folder: Path, files: set[str]) -> None:
    from . import __version__

    data = {"tool": "sourcing", "version": __version__, "files": sorted(files),
            "written": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    fd, tmp = tempfile.mkstemp(prefix=f"{MARKER}.", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
    os.chmod(tmp, 0o666 & ~_umask())  # as every other output (mkstemp makes 0600)
    os.replace(tmp, folder / MARKER)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Marker of a staging folder: which process stages into it (JSON: tool, pid, started, boot).
STAGING_MARKER = ".sourcing-staging.json"


def _process_stamp(pid: int) -> str | None:
    """When process *pid* started (clock ticks since boot, from /proc), None if it is gone or
    unknown; with the boot id, a pid reused by another process reads differently."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _mark_staging(folder: Path) -> None:
    pid = os.getpid()
    (folder / STAGING_MARKER).write_text(json.dumps(
        {"tool": "sourcing", "pid": pid, "started": _process_stamp(pid), "boot": _boot_id()}),
        encoding="utf-8")


def _abandoned(folder: Path) -> bool:
    """A staging folder of ours whose process is gone: it carries our staging marker, and no
    live process has that pid and start time on this boot."""
    try:
        data = json.loads((folder / STAGING_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("tool") != "sourcing" or not isinstance(
            data.get("pid"), int):
        return False
    if data.get("boot") != _boot_id():
        return True
    return _process_stamp(data["pid"]) != data.get("started")


def _remove_debris(out: Path) -> None:
    """Remove what a killed run of ours left beside *out*: staging folders whose process is gone,
    and a previous result set set aside by a swap that was killed before removing it."""
    if not out.parent.is_dir():
        return
    for path in out.parent.glob(f".{out.name}-new-*"):
        if path.is_dir() and not path.is_symlink() and _abandoned(path):
            shutil.rmtree(path, ignore_errors=True)
    if out.is_dir():
        for path in out.parent.glob(f".{out.name}-old-*"):
            if path.is_dir() and not path.is_symlink() and _abandoned(path):
                shutil.rmtree(path, ignore_errors=True)


def _restore_interrupted(out: Path) -> None:
    """A run killed between the two renames of a swap left the previous set aside: put it back."""
    if out.exists():
        return
    for old in sorted(out.parent.glob(f".{out.name}-old-*")):
        if old.is_dir() and not old.is_symlink() and _read_marker(old) is not None:
            (old / STAGING_MARKER).unlink(missing_ok=True)
            old.rename(out)
            return


def _check_path(path: Path) -> None:
    """Refuse a target that is a symbolic link (we never write through one, nor replace it) or
    that lies below a file."""
    if path.is_symlink():
        target = os.readlink(path)
        raise OutputError(f"{path} is a symbolic link (to {target}); nothing was changed: give the "
                          "folder or file itself")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{parent} is a file, not a folder: {path} cannot be written "
                                  "below it (the file was left as it was)")
            break


def _check_folder(out: Path, *, force: bool) -> set[str] | None:
    """Refuse a target that is not ours; return the previous result set's files (None: none)."""
    _check_path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder: give a folder for the results "
                          "(the file was left as it was)")
    if not out.exists():
        return None
    previous = _read_marker(out)
    foreign = _foreign(out, previous)
    if foreign and not force:
        shown = ", ".join(sorted(foreign)[:3]) + (" ..." if len(foreign) > 3 else "")
        raise OutputError(
            f"{out} holds files that sourcing did not write ({shown}); nothing was changed. "
            "Give a new or empty folder, or --force to write the results beside those files "
            "(they are never deleted).")
    return previous


def check_file_target(path: str | os.PathLike, *, force: bool = False) -> Path:
    """Refuse to replace an existing file (or a folder) unless *force*; return the path."""
    path = Path(path)
    _check_path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder: give a file name")
    if path.exists() and not force:
        raise OutputError(f"{path} exists; nothing was changed. Give another name, or --force "
                          "to replace it.")
    return path


@contextmanager
def staged(out: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder beside *out*; publish it onto *out* when the block succeeds.

    The target is checked before any work is done (:class:`OutputError` for a folder that is not
    ours without *force*, or for a file).  A block that raises leaves *out* as it was.

    Examples
    --------
    >>> with staged("reports") as folder:          # doctest: +SKIP
    ...     (folder / "index.html").write_text("...")
    """
    out = Path(out).absolute()
    _check_path(out)
    _restore_interrupted(out)
    _remove_debris(out)
    _check_folder(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    os.chmod(staging, 0o777 & ~_umask())  # as mkdir would (mkdtemp makes 0700)
    _mark_staging(staging)
    try:
        yield staging
        publish(staging, out, force=force)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def publish(staging: str | os.PathLike, out: str | os.PathLike, *, force: bool = False) -> Path:
    """Make the complete result set in *staging* the content of *out* (see the module rules).

    Parameters
    ----------
    staging : path
        A folder holding the new result set only; it is consumed (moved).
    out : path
        The target folder: absent, empty, ours (carries :data:`MARKER`), or foreign with *force*.
    force : bool
        Allow a folder holding files we did not write; they are kept.

    Returns
    -------
    Path
        *out*.
    """
    staging, out = Path(staging), Path(out).absolute()
    _restore_interrupted(out)
    previous = _check_folder(out, force=force)
    (staging / STAGING_MARKER).unlink(missing_ok=True)
    new = _files_below(staging) - {MARKER}
    _write_marker(staging, new)
    if not out.exists():
        staging.rename(out)
        return out
    if not _foreign(out, previous):
        # only our previous result set (or nothing) is there: swap the folders
        old = out.with_name(f".{out.name}-old-{os.getpid()}")
        out.rename(old)
        _mark_staging(old)  # removable by a later run should this one be killed now
        try:
            staging.rename(out)
        except OSError:
            old.rename(out)
            raise
        shutil.rmtree(old, ignore_errors=True)
        return out
    # forced into a folder holding foreign files: file by file, never touching theirs
    for rel in sorted(new):
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            raise OutputError(f"{target} is a folder that sourcing did not write; it was kept and "
                              "the results are incomplete: give a new folder")
        os.replace(staging / rel, target)
    for rel in sorted((previous or set()) - new):
        stale = out / rel
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
    _write_marker(out, new)
    return out
