"""Atomic output: a failure at any point leaves the old file or none, never half of one."""
import os

import pytest

from simcc import atomic as io


@pytest.mark.parametrize("fail_at", ["write", "fsync", "replace"])
def test_failure_leaves_previous_file_and_no_temp(tmp_path, monkeypatch, fail_at):
    target = tmp_path / "summary.csv"
    io.atomic_write(target, "old complete content\n")

    def boom(*a, **k):
        raise OSError("disk gone")

    if fail_at == "write":
        real_fdopen = os.fdopen

        class Half:
            def __init__(self, fh):
                self.fh = fh

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.fh.close()

            def write(self, data):
                self.fh.write(data[: len(data) // 2])
                raise OSError("disk full")

        monkeypatch.setattr(io.os, "fdopen", lambda fd, mode: Half(real_fdopen(fd, mode)))
    elif fail_at == "fsync":
        monkeypatch.setattr(io.os, "fsync", boom)
    else:
        monkeypatch.setattr(io.os, "replace", boom)
    with pytest.raises(OSError):
        io.atomic_write(target, "new content that must never be seen half written\n" * 1000)
    assert target.read_text() == "old complete content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"]


def test_new_file_absent_after_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(io.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("no")))
    with pytest.raises(OSError):
        io.atomic_write(tmp_path / "meta.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        io.atomic_write(tmp_path / "a.csv", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644
