"""The shared output helpers: atomic writes and file hashes."""

from __future__ import annotations

import hashlib

import pytest

from dagster_project.atomic import atomic_target, sha256_of, write_bytes


def test_write_bytes_replaces_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "a" / "b.xlsx"
    write_bytes(target, b"one")
    write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["b.xlsx"]
    assert target.stat().st_mode & 0o777 == 0o644  # readable by whoever sends the trames


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "b.parquet"
    write_bytes(target, b"previous")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), atomic_target(target) as tmp:
        tmp.write_bytes(b"half")
        raise Boom
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["b.parquet"]


def test_sha256_of_reads_large_files_in_chunks(tmp_path):
    data = bytes(range(256)) * 9000  # > 1 MiB: several chunks
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()
