"""Entry texts' index keys kept on disk between runs, so a start or a reload analyses only new texts.

Each distinct entry text is tokenised by Sudachi and turned into keys
(`Language.unit_keys`), 40–80 µs a text, and each title and alias into its
reading and folded form (`Language.name_forms`): most of the time it takes
to build the indexes, and seconds at 100,000 services.
The keys and forms depend only on the text, the dictionary, the synonyms
and ignored words, and the analysis code, so they are kept in one file per
combination of those (`fingerprint`): any change to one of them is a new
file, never a stale key. The file holds the texts of the last build only,
is written atomically (a temporary file, then a rename) into the data dir
(owner-only, like the outbox: `marshal` trusts what it reads) and is read
with `marshal`; an unreadable, missing or read-only one only costs the
analysis (`tests/core/test_keystore.py` checks that indexes built from it
are identical to those built without it).
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, NamedTuple

__all__ = ["KeyStore", "Stored", "fingerprint", "default_folder", "open_keys", "write_atomically"]

log = logging.getLogger("madoguchi.analysis")
FORMAT = 3
Keys = tuple[tuple[str, ...], ...]


class Stored(NamedTuple):
    """What one build analysed: each text's unit keys, and each name's (reading, folded form)."""

    keys: dict[str, Keys]
    names: dict[str, tuple[str, str]]


def write_atomically(folder: Path, name: str, write: Callable[[IO[bytes]], object], *, stale: str) -> bool:
    """Replace `folder/name` with what `write` writes (a temporary file, then a rename), in an
    owner-only folder; files matching `stale` unused for a week are removed. False when the
    folder cannot be written (a cache must not stop a start)."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, folder / name)
        except BaseException:
            os.unlink(tmp)
            raise
        week_ago = time.time() - 7 * 86_400
        for old in folder.glob(stale):
            if old.name != name and old.stat().st_mtime < week_ago:
                old.unlink(missing_ok=True)
        return True
    except OSError as exc:
        log.warning("analysis cache not written to %s (%s)", folder, exc)
        return False


def touch(path: Path) -> None:
    """Mark a cache file as in use, so another knowledge's save does not remove it as stale."""
    try:
        os.utime(path)
    except OSError:
        pass
_CODE = ("analysis.py", "tokens.py", "normalize.py")  # the code that makes the keys


def _dictionary_stamp() -> str:
    """The installed Sudachi dictionary and library: their versions, file size and time."""
    import sudachidict_core
    import sudachipy

    dic = Path(sudachidict_core.__file__).parent / "resources" / "system.dic"
    try:
        st = dic.stat()
        return f"{sudachipy.__version__}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return f"{sudachipy.__version__}:?"


def fingerprint(*, synonyms: Iterable[object], ignore: Iterable[str]) -> str:
    """What the keys depend on, hashed: any change gives another file."""
    h = hashlib.sha256(f"{FORMAT}\n{_dictionary_stamp()}\n".encode())
    here = Path(__file__).parent
    for name in _CODE:
        h.update((here / name).read_bytes())
    h.update(repr(tuple(synonyms)).encode())
    h.update(repr(sorted(ignore)).encode())
    return h.hexdigest()[:24]


def default_folder() -> Path | None:
    """`<data dir>/analysis` (MADOGUCHI_DATA_DIR or XDG); None when MADOGUCHI_ANALYSIS_CACHE=off."""
    if os.environ.get("MADOGUCHI_ANALYSIS_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    from bot.querylog.backend import default_data_dir

    return default_data_dir() / "analysis"


class KeyStore:
    """One folder of key files; `load` and `save` never raise (a cache must not stop a start)."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def _path(self, print_: str) -> Path:
        return self.folder / f"keys-{print_}.marshal"

    def load(self, print_: str) -> Stored:
        touch(self._path(print_))
        empty = Stored({}, {})
        try:
            # One read, then loads: `marshal.load` on a file reads it in many small pieces (4× slower).
            data = marshal.loads(self._path(print_).read_bytes())
        except FileNotFoundError:
            return empty
        except (OSError, EOFError, ValueError, TypeError) as exc:
            log.warning("analysis cache %s unreadable (%s); analysing again", self._path(print_), exc)
            return empty
        if not (type(data) is tuple and len(data) == 2 and all(type(d) is dict for d in data)
                and all(type(k) is str and type(v) is tuple for k, v in data[0].items())
                and all(type(k) is str and type(v) is tuple and len(v) == 2 for k, v in data[1].items())):
            log.warning("analysis cache %s is not a table of keys; analysing again", self._path(print_))
            return empty
        return Stored(*data)

    def save(self, print_: str, stored: Stored) -> None:
        """Replace the file with `stored`; other fingerprints' files unused for a week are removed."""
        data = (stored.keys, stored.names)
        write_atomically(self.folder, self._path(print_).name, lambda f: marshal.dump(data, f),
                         stale="keys-*.marshal")


def open_keys(folder: Path | str | None = None) -> KeyStore | None:
    """The key store in `folder`, else in `default_folder()`; None when turned off."""
    folder = default_folder() if folder is None else folder
    return KeyStore(folder) if folder else None
