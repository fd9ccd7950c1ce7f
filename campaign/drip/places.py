"""What `{{ local.<place> }}` reads in a step: a member's paragraphs (campaign/drip/local.py)."""

from __future__ import annotations

from collections.abc import Mapping


class Places:
    """A member's paragraphs at the places of one step, as `{{ local.<place> }}` reads them:
    a place without a paragraph reads as nothing. No method of its own shadows a place."""

    __slots__ = ("_texts",)

    def __init__(self, texts: Mapping[str, str] | None = None) -> None:
        self._texts = dict(texts or {})

    def __getattr__(self, place: str) -> str:
        if place.startswith("_"):
            raise AttributeError(place)
        return self._texts.get(place, "")

    def __getitem__(self, place: str) -> str:
        return self._texts.get(place, "")
