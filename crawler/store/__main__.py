"""``python -m crawler.store rebuild --root OUTPUT_ROOT [--path STORE_FILE]``.

Rebuilds the SQLite article store from the Markdown files under the output root, whatever the
profile that wrote them: the front matter is YAML between ``---`` or TOML between ``+++`` (Zola);
the id is read from the link back that ends each file (``[qq](https://new.qq.com/rain/a/<id>)``).
Content fingerprints come from an article's data, which a file does not hold, so rebuilt records
have none: duplicate detection covers the articles written after the rebuild. From the front
matter it takes the publish time (``date``, for ``UPDATE_WINDOW``) and the last correction (the
profiles' lastmod keys, so a corrected article keeps its ``lastmod``); a file marked as a draft
or unpublished by ``DELETED_FILES = "draft"`` is recorded ``deleted``. What no file shows (paid,
dropped, deleted articles never written, the source's update times) is not rebuilt: those are
fetched once more. The new store is built beside the old one; then the old one (corrupt or not,
with its -wal/-shm) is moved aside to ``<store>.<UTC time>.old``, never deleted, and the command
says where; an interrupted rebuild leaves the old file in place. Run it while no crawl writes to
the root (it replaces the file under them).
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from crawler import settings as project_settings
from crawler.qq.ids import article_id
from crawler.render.frontmatter import split_front_matter
from crawler.render.profiles import PROFILES
from crawler.store.base import DELETED, WRITTEN, Record, stamp
from crawler.store.sqlite import DEFAULT_NAME, SqliteStore
from crawler.times import BEIJING

logger = logging.getLogger(__name__)

_LINK_RE = re.compile(r"\[[^\]\n]*\]\((?P<url>[^)\s]+)\)\s*\Z")


LASTMOD_KEYS = tuple(dict.fromkeys(profile.lastmod for profile in PROFILES.values() if profile.lastmod))


def _time(value: Any) -> datetime | None:
    """A front matter date (a string as the profiles write it, or a YAML/TOML datetime), Beijing if naive."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            try:
                moment = datetime.strptime(str(value).strip(), "%Y-%m-%d %H:%M:%S %z")
            except ValueError:
                return None
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


def record_of(root: Path, path: Path) -> Record:
    """The store record of one written file; ValueError when it is not one of ours."""
    values, body = split_front_matter(path.read_text(encoding="utf-8"))
    link = _LINK_RE.search(body)
    ident = article_id(link.group("url")) if link else None
    if ident is None:
        raise ValueError("no link back to a qq.com article on its last line")
    published = _time(values.get("date", ""))
    modified = next((m for m in (_time(values[k]) for k in LASTMOD_KEYS if k in values) if m is not None), None)
    drafted = any(values.get(k) == v for profile in PROFILES.values() for k, v in profile.draft.items())
    return Record(
        ident, path.relative_to(root).as_posix(), "", DELETED if drafted else WRITTEN,
        modified=modified.isoformat() if modified else "", published=stamp(published) if published else "",
    )  # fmt: skip


def rebuild(root: Path, store_path: Path) -> tuple[int, int, Path | None]:
    """Build a fresh store from ``root``'s Markdown files; returns (records, files skipped, where
    the old store was moved)."""
    fresh = store_path.with_name(store_path.name + ".rebuild")
    for leftover in (fresh, fresh.with_name(fresh.name + "-wal"), fresh.with_name(fresh.name + "-shm")):
        leftover.unlink(missing_ok=True)
    store = SqliteStore(fresh, project_settings.STORE_LOCK_TIMEOUT, root=root)
    seen: dict[str, str] = {}
    skipped = 0
    try:
        for path in sorted(root.rglob("*.md")):
            try:
                record = record_of(root, path)
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                skipped += 1
                logger.warning("Skipped %s: %s", path, exc)
                continue
            if record.id in seen:
                skipped += 1
                logger.warning("Skipped %s: article %s is already %s", path, record.id, seen[record.id])
                continue
            seen[record.id] = record.path
            store.put(record)
    finally:
        store.close()
    aside = move_aside(store_path)
    fresh.replace(store_path)
    shutil.rmtree(fresh.with_name(fresh.name + ".locks"), ignore_errors=True)
    return len(seen), skipped, aside


def move_aside(store_path: Path) -> Path | None:
    """Move the old store (and its -wal/-shm) to ``<name>.<UTC time>.old``; never delete it: a store
    that does not open may still be read by hand. Returns where it went (None: there was none)."""
    if not store_path.exists():
        return None
    when = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = store_path.with_name(f"{store_path.name}.{when}.old")
    n = 1
    while aside.exists():
        n += 1
        aside = store_path.with_name(f"{store_path.name}.{when}-{n}.old")
    for suffix in ("-wal", "-shm"):
        companion = store_path.with_name(store_path.name + suffix)
        if companion.exists():
            companion.replace(aside.with_name(aside.name + suffix))
    store_path.replace(aside)
    return aside


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.store", description=__doc__.split("\n\n")[0].replace("``", ""))
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("rebuild", help="rebuild the SQLite store from the Markdown files")
    command.add_argument("--root", type=Path, default=Path("output"), help="OUTPUT_ROOT (default: output)")
    command.add_argument("--path", type=Path, help=f"store file (default: ROOT/{DEFAULT_NAME})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if not args.root.is_dir():
        parser.error(f"{args.root} is not a directory")
    store_path = args.path or args.root / DEFAULT_NAME
    records, skipped, aside = rebuild(args.root, store_path)
    print(f"{store_path}: {records} articles recorded, {skipped} files skipped")
    if aside is not None:
        print(f"The old store was moved to {aside} (delete it once the new one serves)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
