"""Safe reading of export zips (ingestion.archive): zip-slip names, symlinks, zip bombs, broken archives.

Each test builds a real zip with the standard library, the way an attacker or a broken download
would, and checks that the member is refused with a reason (and that honest members still load).
"""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.archive import DEFAULT_LIMITS, MIB, ArchiveLimits, ArchiveRefused, json_members
from ingestion.history import expand_paths, parse_source

PLAY = {"endTime": "2024-01-01 10:00", "artistName": "A", "trackName": "T", "msPlayed": 1000}


def make_zip(path: Path, members: dict[str, bytes], symlinks: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return path


def by_name(path: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> dict[str, str | None]:
    return {m.name: m.refused for m in json_members(path, limits)}


def test_honest_members_load_and_other_files_are_skipped(tmp_path: Path) -> None:
    body = json.dumps([PLAY]).encode()
    archive = make_zip(tmp_path / "my_spotify_data.zip", {
        "MyData/StreamingHistory0.json": body, "MyData/ReadMe.pdf": b"%PDF", "__MACOSX/MyData/._x.json": b"x",
    })
    members = list(json_members(archive))
    assert [(m.name, m.data, m.refused) for m in members] == [("MyData/StreamingHistory0.json", body, None)]


@pytest.mark.parametrize("name", ["../evil.json", "MyData/../../evil.json", "/etc/evil.json", "C:/evil.json"])
def test_zip_slip_names_are_refused(tmp_path: Path, name: str) -> None:
    archive = make_zip(tmp_path / "x.zip", {name: b"[]", "ok.json": b"[]"})
    refused = by_name(archive)
    assert refused["ok.json"] is None
    assert refused[name] is not None and "refused: the member name" in refused[name]


def test_symlinks_are_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "x.zip", {"link.json": b"/etc/passwd", "ok.json": b"[]"}, symlinks=("link.json",))
    assert by_name(archive) == {"link.json": "refused: the member is a symbolic link", "ok.json": None}


def test_a_member_inflating_past_the_limit_is_refused_whatever_its_header_says(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "bomb.zip", {"big.json": b"[" + b" " * (3 * MIB) + b"]", "ok.json": b"[]"})
    refused = by_name(archive, ArchiveLimits(max_member_bytes=2 * MIB, max_ratio=1e9))
    assert "inflates past the per-file limit of 2 MiB" in (refused["big.json"] or "")
    assert refused["ok.json"] is None


def test_a_high_compression_ratio_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "bomb.zip", {"bomb.json": b"[" + b"0," * (2 * MIB) + b"0]"})
    refused = by_name(archive, ArchiveLimits(max_ratio=50))
    assert "compression ratio" in (refused["bomb.json"] or "") and "above 50:1" in (refused["bomb.json"] or "")


def test_the_total_limit_stops_the_archive(tmp_path: Path) -> None:
    body = b"[" + bytes(range(256)) * (4 * 1024) + b"]"  # ~1 MiB, barely compressible
    archive = make_zip(tmp_path / "many.zip", {f"f{i}.json": body for i in range(5)})
    members = list(json_members(archive, ArchiveLimits(max_total_bytes=int(2.5 * MIB), max_ratio=1e9)))
    assert [m.refused is None for m in members] == [True, True, False]
    assert "archive's total limit" in (members[-1].refused or "")


def test_too_many_members_and_broken_archives_are_refused_whole(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "many.zip", {f"f{i}.json": b"[]" for i in range(4)})
    with pytest.raises(ArchiveRefused, match="holds 4 files, more than the limit of 3"):
        list(json_members(archive, ArchiveLimits(max_members=3)))
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ArchiveRefused, match="not a readable zip archive"):
        list(json_members(broken))


def test_a_refusal_reaches_the_loader_as_a_failure_naming_archive_and_member(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "my_spotify_data.zip", {"../evil.json": json.dumps([PLAY]).encode()})
    (source,) = list(expand_paths([archive]))
    with pytest.raises(ValueError, match=r"my_spotify_data\.zip!\.\./evil\.json: refused: the member name climbs out"):
        parse_source(source, user=None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(alphabet="ab./\\:", min_size=1, max_size=12).map(lambda s: s + ".json"),
                      min_size=1, max_size=6, unique=True))
def test_every_member_is_either_read_or_refused_and_none_escapes(tmp_path: Path, names: list[str]) -> None:
    """Whatever the names, each JSON member comes back exactly once, and no accepted name can climb out."""
    archive = make_zip(tmp_path / "h.zip", dict.fromkeys(names, b"[]"))
    with zipfile.ZipFile(archive) as z:
        expected = sorted(i.filename for i in z.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/"))
    members = list(json_members(archive))
    assert sorted(m.name for m in members) == expected
    for m in members:
        if m.refused is None:
            parts = m.name.replace("\\", "/").split("/")
            assert ".." not in parts and not m.name.startswith("/") and m.name[1:2] != ":"
            assert m.data == b"[]"
