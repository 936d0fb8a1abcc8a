"""Safe reading of the export zip Spotify mails (``my_spotify_data.zip``).

Members are read into memory, never extracted, so nothing is written outside the home. A zip is
still hostile input, so a member is refused (with a sentence naming the archive, the member and the
rule) when:

* its name is absolute or climbs out of the archive (``..``): a zip-slip name means the archive was
  made to attack an extractor, and we would rather not put such a name into lineage columns;
* it is a symbolic link (Unix mode in ``external_attr``): a link's target is not history;
* it would inflate past :attr:`ArchiveLimits.max_member_bytes`, or the whole archive past
  :attr:`ArchiveLimits.max_total_bytes`, or its inflated size is more than
  :attr:`ArchiveLimits.max_ratio` times its compressed size (a zip bomb). Sizes are measured while
  reading, not trusted from the header, which a crafted archive can fake.

A refused member becomes a failed source (the other files of the call still load); a zip that
breaks a whole-archive limit stops at that member.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MIB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """How much a zip may inflate. Spotify's largest real exports are ~100 MB of JSON, ratio ~10:1."""

    max_member_bytes: int = 512 * MIB
    max_total_bytes: int = 4096 * MIB
    max_ratio: float = 100.0
    max_members: int = 10_000


DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True)
class Member:
    """One JSON member of an archive: its name and bytes, or why it was refused."""

    name: str
    data: bytes | None = None
    refused: str | None = None


class ArchiveRefused(ValueError):
    """The archive as a whole is refused (not a zip, too many members)."""


def _unsafe_name(name: str) -> str | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (name[1:2] == ":"):
        return "has an absolute path"
    if ".." in path.parts:
        return "climbs out of the archive ('..' in its path)"
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The member's bytes, or None when it inflates past ``limit`` (read in chunks, header not trusted)."""
    chunks: list[bytes] = []
    size = 0
    with archive.open(info) as handle:
        while chunk := handle.read(1 * MIB):
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    return b"".join(chunks)


def json_members(path: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> Iterator[Member]:
    """The ``.json`` members of a zip in name order (macOS ``__MACOSX/`` folders skipped), each read
    safely or refused with a reason; raises :class:`ArchiveRefused` for an unreadable archive."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveRefused("not a readable zip archive") from exc
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
        if len(infos) > limits.max_members:
            raise ArchiveRefused(f"holds {len(infos):,} files, more than the limit of {limits.max_members:,}")
        total = 0
        for info in sorted(infos, key=lambda i: i.filename):
            name = info.filename
            if not name.lower().endswith(".json"):
                continue
            if reason := _unsafe_name(name):
                yield Member(name, refused=f"refused: the member name {reason}")
                continue
            if _is_symlink(info):
                yield Member(name, refused="refused: the member is a symbolic link")
                continue
            budget = min(limits.max_member_bytes, limits.max_total_bytes - total)
            try:
                data = _read_bounded(archive, info, budget)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                yield Member(name, refused=f"cannot be read from the archive ({exc})")
                continue
            if data is None:
                which = ("the per-file limit" if budget == limits.max_member_bytes
                         else "the archive's total limit")
                yield Member(name, refused=f"refused: inflates past {which} of {budget // MIB:,} MiB (zip bomb?)")
                if budget < limits.max_member_bytes:
                    return
                continue
            if info.compress_size and len(data) > limits.max_ratio * max(info.compress_size, 1) and len(data) > MIB:
                ratio = len(data) / info.compress_size
                yield Member(name, refused=(f"refused: compression ratio {ratio:,.0f}:1 is above "
                                            f"{limits.max_ratio:,.0f}:1 (zip bomb?)"))
                continue
            total += len(data)
            yield Member(name, data=data)


__all__ = ["DEFAULT_LIMITS", "ArchiveLimits", "ArchiveRefused", "Member", "json_members"]
