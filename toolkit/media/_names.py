"""Safe, unique file names for input ids that come from an untrusted archive."""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["MAX_NAME_BYTES", "FileNamer"]

#: Longest file name :class:`FileNamer` makes, in UTF-8 bytes (extension included).
MAX_NAME_BYTES = 200
#: Room kept for ``.`` plus the longest extension.
_EXT_ROOM = 11
_HASH_CHARS = 10
_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")
#: Ids that :func:`_sanitise` keeps as they are up to its last two steps (ASCII letters,
#: digits, ``_``, ``-``, ``.``, not starting with ``.`` or ``-``): checked at once.
_PLAIN_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*\Z")
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$"}
    | {f"com{c}" for c in "0123456789¹²³"}
    | {f"lpt{c}" for c in "0123456789¹²³"}
)


def _id_hash(input_id: str, chars: int = _HASH_CHARS) -> str:
    return hashlib.sha256(input_id.encode("utf-8", "surrogatepass")).hexdigest()[:chars]


def _clip_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def _sanitise(input_id: str) -> str:
    if _PLAIN_ID.match(input_id):
        name = input_id  # the common case: nothing below would change it
    else:
        text = unicodedata.normalize("NFC", input_id)
        chars = [ch if (ch.isalnum() and ch.isprintable()) or ch in "-_." else "_" for ch in text]
        name = "".join(chars)
        # No hidden or option-like names, no trailing dots or spaces (Windows drops them).
        name = re.sub(r"^[.\-]+", lambda m: "_" * len(m.group()), name)
    name = name.rstrip(". ")
    if not name:
        name = "input"
    if name.split(".", 1)[0].casefold() in _WINDOWS_RESERVED:
        name = "_" + name
    return name


class FileNamer:
    """Turns input ids into file names that are safe and unique within one folder.

    A name never holds ``/``, ``\\``, NUL or other control characters, is never ``.``
    or ``..``, never starts with a dot or dash, is at most 200 UTF-8 bytes long and
    avoids Windows' reserved device names. An id that has to be changed (or cut) to
    fit these rules, or that would clash with an earlier name (also when they differ
    only in case), gets ``-`` plus a short hash of the raw id. The same id always
    gets the same stem, and the same sequence of ids always gets the same names.

    Example::

        namer = FileNamer()
        namer.name_for("img-0001", "png")   # "img-0001.png"
        namer.name_for("../etc/passwd", "jpg")  # "___etc_passwd-7fef78f534.jpg"
    """

    def __init__(self) -> None:
        self._stems: dict[str, str] = {}
        self._taken: set[str] = set()

    def plain_tables(self) -> tuple[dict[str, str], set[str], frozenset[str], int]:
        """What the C reader needs to give a plain id its stem as :meth:`stem_for` does
        (the stems given, the casefolded names taken, the reserved names, the longest
        stem), and to leave every other id to :meth:`stem_for`."""
        return self._stems, self._taken, _WINDOWS_RESERVED, MAX_NAME_BYTES - _EXT_ROOM

    def stem_for(self, input_id: str) -> str:
        """The file name without extension for ``input_id`` (the same on every call)."""
        stem = self._stems.get(input_id)
        if stem is not None:
            return stem
        budget = MAX_NAME_BYTES - _EXT_ROOM
        if (
            len(input_id) <= budget
            and _PLAIN_ID.match(input_id)
            and input_id[-1] != "."
            and input_id.partition(".")[0].lower() not in _WINDOWS_RESERVED
        ):
            # The common case, an id that _sanitise keeps as it is (ASCII, so its length
            # is its UTF-8 size and lower() is casefold()): the branch below, shortened.
            folded = input_id.lower()
            if folded not in self._taken:
                self._taken.add(folded)
                self._stems[input_id] = input_id
                return input_id
        clean = _sanitise(input_id)
        changed = clean != input_id
        short = _clip_utf8(clean, budget - 1 - _HASH_CHARS)
        fits = len(clean.encode("utf-8")) <= budget
        if not changed and fits and clean.casefold() not in self._taken:
            stem = clean
        else:
            stem = f"{short}-{_id_hash(input_id)}"
            chars = _HASH_CHARS
            n = 0
            while stem.casefold() in self._taken:
                # Only an id crafted to look like another's hashed name gets here.
                n += 1
                chars = min(64, chars + 6)
                tail = _id_hash(input_id, chars) + (f"-{n}" if chars == 64 else "")
                stem = f"{_clip_utf8(clean, budget - 1 - len(tail))}-{tail}"
        self._taken.add(stem.casefold())
        self._stems[input_id] = stem
        return stem

    def name_for(self, input_id: str, ext: str) -> str:
        """``stem_for(input_id)`` plus ``.ext`` (``ext``: 1-10 lowercase letters/digits).

        Example::

            FileNamer().name_for("a/b", "png")  # "a_b-c14cddc033.png"
        """
        if not _EXTENSION.match(ext):
            raise ValueError(f"bad file extension {ext!r}: use 1-10 lowercase letters or digits")
        return f"{self.stem_for(input_id)}.{ext}"

    def __len__(self) -> int:
        return len(self._stems)
