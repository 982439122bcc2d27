"""Entity names: the id made from a name, the key two spellings share, and near misses.

* :func:`slugify` -- the id given to an entity created from a name:
  ``"Société Générale"`` -> ``"societe-generale"`` (accents transliterated by
  Unicode NFKD decomposition, a few letters that have no decomposition spelled out).
* :func:`name_key` -- what is left of a name once case, accents, spacing,
  punctuation and legal-form suffixes are set aside: ``"NVIDIA Corp."``,
  ``"Nvidia"`` and ``"nvidia, inc"`` share the key ``"nvidia"``; ``"Open AI"``
  and ``"OpenAI"`` share ``"openai"``.
* :func:`similar` -- the known entities a name is close to, best first, with a
  score from 0 to 100: 100 when the keys are equal, else the optimal-string-alignment
  similarity of the keys (rapidfuzz's ``OSA.normalized_similarity``: one minus the
  edits -- insertions, deletions, substitutions, swaps of neighbours -- over the
  longer key's length). :data:`CUTOFF` (80) keeps one edit in five characters:
  ``"Nvidai"`` is 83 from ``nvidia``, ``"Grok"`` is 75 from ``groq`` and not listed.
  Names whose numbers differ are never similar (``Fund II`` is not ``Fund III``'s
  typo, nor ``Fund 2`` ``Fund 1``'s: the digits must be the same).

Used by ``dealgraph add`` (an unknown payer/payee close to a known entity is refused
with ``did you mean ...?``) and by ``dealgraph lint`` (entities that look alike).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

#: Scores below this are not "similar" (see the module docstring).
CUTOFF = 80.0

#: Letters NFKD leaves whole, spelled as ASCII.
_LETTERS = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                          "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ð": "d", "ı": "i"})

#: Legal-form words dropped from the end of a name by :func:`name_key` (after
#: punctuation is removed, so ``Inc.`` is ``inc`` and ``S.A.`` is ``sa``).
SUFFIXES: frozenset[str] = frozenset({
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "plc", "lp", "llp",
    "gmbh", "ag", "sa", "sas", "srl", "spa", "nv", "bv", "se", "oy", "ab", "as", "kk", "pbc", "pte", "pty",
})


def ascii_fold(text: str) -> str:
    """``text`` with accents removed (NFKD, combining marks dropped; ``ß`` -> ``ss`` ...)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slugify(text: str) -> str:
    """``"Scale AI"`` -> ``"scale-ai"``, ``"Société Générale"`` -> ``"societe-generale"``:
    the id given to an entity created from a name. Letters and digits in ASCII, runs of
    anything else one ``-``; a name with no ASCII letter or digit left (e.g. in another
    script) gets ``entity-`` and 8 hex digits of its SHA-1."""
    s = re.sub(r"[^a-z0-9]+", "-", ascii_fold(text).lower()).strip("-")
    return s or "entity-" + hashlib.sha1(text.encode()).hexdigest()[:8]


def name_key(text: str) -> str:
    """The key of a name: accents folded, lower case, ``&`` as ``and``, dots and
    apostrophes removed, other punctuation and spacing ignored, a leading ``the`` and
    trailing legal-form words (:data:`SUFFIXES`) dropped -- at least one word is kept.
    ``"NVIDIA Corporation"`` -> ``"nvidia"``, ``"Open AI"`` -> ``"openai"``."""
    s = ascii_fold(text).lower().replace("&", " and ")
    s = re.sub(r"[.'’`]", "", s)
    words = re.findall(r"[^\W_]+", s)
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[-1] in SUFFIXES:
        words.pop()
    return "".join(words) or text.strip().lower()


def _candidate_rows(candidates) -> Iterable[tuple[str, str, list[str]]]:
    """``(id, display name, aliases)`` from an entities DataFrame / Arrow table (columns
    id, name and optionally aliases, ";"-separated) or an iterable of such triples."""
    if hasattr(candidates, "column_names") or hasattr(candidates, "columns"):
        names = list(candidates.column_names if hasattr(candidates, "column_names") else candidates.columns)

        def col(c):
            v = candidates[c]
            return v.to_pylist() if hasattr(v, "to_pylist") else v.tolist()
        ids, disp = col("id"), col("name")
        aliases = col("aliases") if "aliases" in names else [""] * len(ids)
        return ((str(i), str(n) if n is not None else str(i), _split(a)) for i, n, a in zip(ids, disp, aliases))
    return ((str(i), str(n), _split(a)) for i, n, a in candidates)


def _split(aliases) -> list[str]:
    if aliases is None or aliases != aliases:  # None or NaN
        return []
    if isinstance(aliases, str):
        return [a.strip() for a in aliases.split(";") if a.strip()]
    return [str(a) for a in aliases]


class Candidates:
    """Known entities prepared for :meth:`similar` calls (every name's key computed once)."""

    def __init__(self, candidates):
        self.keys: list[str] = []
        self.owner: list[int] = []
        self.ids: list[str] = []
        self.names: list[str] = []
        self._exact: dict[str, list[int]] = {}
        for j, (ident, display, aliases) in enumerate(_candidate_rows(candidates)):
            self.ids.append(ident)
            self.names.append(display)
            for k in dict.fromkeys(name_key(x) for x in (ident, display, *aliases)):
                self.keys.append(k)
                self.owner.append(j)
                self._exact.setdefault(k, []).append(j)

    def similar(self, name: str, *, cutoff: float = CUTOFF, limit: int = 3) -> list[tuple[str, str, float]]:
        """``(id, display name, score)`` of the entities ``name`` is close to, best first
        (ties by id), each entity once, at most ``limit``; ``[]`` when none reaches ``cutoff``."""
        key = name_key(name)
        digits = _digits(key)  # "Fund 2" is not a misspelling of "Fund 1"
        best: dict[int, float] = {j: 100.0 for j in self._exact.get(key, ())}
        if self.keys:
            # rapidfuzz compares a normalised cutoff after rounding: ask a little lower, then keep
            # what reaches the cutoff here (4 of 5 letters is 80, not 79.99...)
            for _, score, at in process.extract(key, self.keys, scorer=OSA.normalized_similarity,
                                                score_cutoff=max(cutoff / 100 - 0.001, 0), limit=None):
                if 100 * score >= cutoff - 1e-6 and _digits(self.keys[at]) == digits:
                    j = self.owner[at]
                    best[j] = max(best.get(j, 0.0), round(100 * score, 1))
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], self.ids[kv[0]]))
        return [(self.ids[j], self.names[j], s) for j, s in ranked[:limit]]


def _digits(key: str) -> list[str]:
    return re.findall(r"\d+", key)


def similar(name: str, candidates, *, cutoff: float = CUTOFF, limit: int = 3) -> list[tuple[str, str, float]]:
    """``(id, display name, score)`` of the ``candidates`` ``name`` is close to by id, name
    or alias (see the module docstring for the score), best first, at most ``limit``.

    ``candidates``: an entities DataFrame or Arrow table (``id``, ``name``, ``aliases``),
    an iterable of ``(id, name, aliases)`` (aliases a ";"-separated string or a list),
    or a :class:`Candidates` (prepared once for many calls)."""
    prepared = candidates if isinstance(candidates, Candidates) else Candidates(candidates)
    return prepared.similar(name, cutoff=cutoff, limit=limit)


def suggestion(matches: list[tuple[str, str, float]]) -> str:
    """``did you mean 'nvidia' (NVIDIA Corporation)?`` for the best of ``matches``
    (``or 'x' (X)`` for a second as close)."""
    shown = [m for m in matches if m[2] == matches[0][2]][:2]
    return "did you mean " + " or ".join(f"{i!r}" + (f" ({n})" if n != i else "") for i, n, _ in shown) + "?"


def closest(value: str, options) -> str | None:
    """The one of ``options`` (a vocabulary: deal types, statuses, column names) that
    ``value`` is most like by :func:`name_key` (ignoring ``_``), if it reaches :data:`CUTOFF`:
    ``"investmnt"`` -> ``"investment"``, ``"rumored"`` -> ``"rumoured"``."""
    options = list(options)
    keys = [name_key(o.replace("_", " ")) for o in options]
    hit = process.extractOne(name_key(value.replace("_", " ")), keys, scorer=OSA.normalized_similarity,
                             score_cutoff=max(CUTOFF / 100 - 0.001, 0))
    return options[hit[2]] if hit and 100 * hit[1] >= CUTOFF - 1e-6 else None
