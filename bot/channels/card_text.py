"""Cards as plain text lines, shared by channels that have no native card (Telegram, WeChat)."""

from __future__ import annotations

from bot.messages import Card
from nlu.language import DEFAULT_LANGUAGE, normalise_language

FREE = {
    "zh": "免费",
    "en": "free",
    "es": "gratis",
    "fr": "gratuit",
    "ar": "مجاني",
    "ru": "бесплатно",
    "uk": "безкоштовно",
}


def in_language(table: dict[str, str], language: str | None) -> str:
    """The entry for `language`, or the default language's when the table has none."""
    return table.get(normalise_language(language) or "", table[DEFAULT_LANGUAGE])


def card_lines(cards: list[Card], language: str | None) -> str:
    """Each card as a numbered name with where, when, price and distance beneath."""
    lines = []
    for number, card in enumerate(cards, start=1):
        details = [card.place, card.schedule]
        if card.free:
            details.append(in_language(FREE, language))
        elif card.price:
            details.append(card.price)
        details.append(distance_text(card.distance_m))
        lines.append(f"{number}. {card.name}")
        shown = " · ".join(detail for detail in details if detail)
        if shown:
            lines.append(f"   {shown}")
        if card.url:
            lines.append(f"   {card.url}")
    return "\n".join(lines)


def distance_text(metres: float | None) -> str:
    """Metres under a kilometre, kilometres with one decimal above."""
    if metres is None:
        return ""
    return f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"
