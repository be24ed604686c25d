"""Text folding shared by every search: lower case, no accents, apostrophes and hyphens as spaces."""
from __future__ import annotations

import re
import unicodedata

#: ligatures that NFKD does not split ("Œuvre" must match "oeuvre")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
#: apostrophes, hyphens and dashes separate words in French place names ("L'Haÿ-les-Roses")
_SEPARATORS = re.compile(r"['’ʼ‘`´\-‐‑–—_]+")
_SPACES = re.compile(r"\s+")
#: control characters never match anything, and PostgreSQL refuses NUL in a text parameter
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def normalize_search(text: str | None) -> str:
    """Fold `text` for matching: "L'Haÿ-les-Roses" → "l hay les roses"."""
    if not text:
        return ""
    folded = strip_accents(_CONTROLS.sub(" ", text)).lower()
    folded = _SEPARATORS.sub(" ", folded)
    return _SPACES.sub(" ", folded).strip()
