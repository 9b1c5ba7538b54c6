"""The stage cache: authenticated folders, bounded, never trusting a file it did not write."""

from __future__ import annotations

import os
import pickle
from types import MappingProxyType

import pytest

from sourcing import cache as stage_cache
from sourcing.cache import StageCache, digest, file_fingerprint

KEY = "a" * 64


@pytest.fixture(autouse=True)
def _own_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCING_CACHE", str(tmp_path / "user"))
    monkeypatch.setattr(stage_cache, "_MEMORY", stage_cache.OrderedDict())


def test_digest_is_canonical():
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest({"a": 1}) != digest({"a": 1.5})


def test_round_trip_through_a_folder(tmp_path):
    value = {"table": list(range(5)), "view": MappingProxyType({"x": 1})}
    StageCache(tmp_path / "run", memory=False).put("score", KEY, value)
    found, back = StageCache(tmp_path / "run", memory=False).get("score", KEY)
    assert found and back["table"] == value["table"] and dict(back["view"]) == {"x": 1}
    assert isinstance(back["view"], MappingProxyType)
    assert StageCache(tmp_path / "run", memory=False).get("score", "b" * 64) == (False, None)
    key = tmp_path / "user" / "key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"


def test_an_altered_or_foreign_file_is_never_unpickled(tmp_path):
    """A cache file is loaded only when its HMAC verifies under the user's key: a flipped byte,
    a file written under another key, or a planted pickle is ignored (the stage is recomputed)."""
    folder = tmp_path / "run"
    StageCache(folder, memory=False).put("score", KEY, [1, 2, 3])
    path = folder / f"score-{KEY}.pkl"
    blob = bytearray(path.read_bytes())
    blob[-2] ^= 0xFF
    path.write_bytes(bytes(blob))
    assert StageCache(folder, memory=False).get("score", KEY) == (False, None)

    class Boom:
        def __reduce__(self):
            return (os.system, ("echo planted > " + str(tmp_path / "pwned"),))

    path.write_bytes(b"\0" * 32 + pickle.dumps(Boom()))
    assert StageCache(folder, memory=False).get("score", KEY) == (False, None)
    assert not (tmp_path / "pwned").exists()
    # a file valid under another user's key
    other = StageCache(tmp_path / "other", memory=False)
    other._key = b"k" * 32
    other.put("score", KEY, [9])
    os.replace(tmp_path / "other" / f"score-{KEY}.pkl", path)
    assert StageCache(folder, memory=False).get("score", KEY) == (False, None)


def test_a_result_that_cannot_be_pickled_stays_in_memory(tmp_path):
    cache = StageCache(tmp_path / "run")
    cache.put("score", KEY, lambda: 1)
    assert cache.get("score", KEY)[0]
    assert not list((tmp_path / "run").glob("*.pkl"))


def test_previous_folder_is_read_and_copied_never_written(tmp_path):
    StageCache(tmp_path / "old", memory=False).put("award", KEY, "old award")
    before = sorted(p.name for p in (tmp_path / "old").iterdir())
    cache = StageCache(tmp_path / "new", previous=tmp_path / "old", memory=False)
    assert cache.get("award", KEY) == (True, "old award")
    cache.put("score", "c" * 64, "new score")
    assert sorted(p.name for p in (tmp_path / "old").iterdir()) == before
    assert {p.name for p in (tmp_path / "new").iterdir()} == {f"award-{KEY}.pkl", f"score-{'c' * 64}.pkl"}


def test_user_cache_is_trimmed_to_its_bound_and_only_our_files(tmp_path, monkeypatch):
    monkeypatch.setattr(stage_cache, "USER_CACHE_BYTES", 3000)
    folder = tmp_path / "user" / "stages"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("x" * 5000)  # not ours: kept
    cache = StageCache(folder, memory=False, trim=True)
    for i in range(6):
        cache.put("score", f"{i:064x}", b"y" * 1000)
    ours = sorted(folder.glob("*.pkl"))
    assert sum(p.stat().st_size for p in ours) <= 3000 and len(ours) >= 1
    assert (folder / "notes.txt").exists()
    assert (folder / f"score-{5:064x}.pkl").exists()  # the newest stays


def test_memory_layer_is_bounded(monkeypatch):
    monkeypatch.setattr(stage_cache, "MEMORY_ENTRIES", 3)
    cache = StageCache()
    for i in range(5):
        cache.put("score", f"{i:064x}", i)
    assert not cache.get("score", f"{0:064x}")[0] and cache.get("score", f"{4:064x}") == (True, 4)


def test_file_fingerprint_follows_contents(tmp_path):
    folder = tmp_path / "tender"
    folder.mkdir()
    (folder / "bids.csv").write_text("a,b\n1,2\n")
    first = file_fingerprint(folder)
    assert file_fingerprint(folder) == first
    (folder / "bids.csv").write_text("a,b\n1,3\n")
    assert file_fingerprint(folder) != first
    assert file_fingerprint(None) is None
