"""The languages Groundwork ships a complete catalog for (forum/translations), in the order they are offered."""
from __future__ import annotations

# code -> the language's own name (a member who picked one by mistake still finds theirs)
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch"}
DEFAULT_LOCALE = "en"


def N_(message: str) -> str:
    """Mark ``message`` for the catalog where it is stored untranslated and translated when shown."""
    return message
