"""How learncity's replies look on WeChat: one plain text, cards as lines, buttons as numbers.

A WeChat Official Account can only send text here (no inline buttons, no location keyboard),
so a turn's replies are merged into one text: each reply's text, its cards as numbered lines
(name, then place · schedule · free/price · distance), its buttons as "reply 1 for …", and a
request for the location as a hint to use "+" → Location. The numbers a citizen may reply are
remembered per citizen (`NumberedChoices`), so replying "1" presses that button.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from bot.channels.card_text import card_lines, in_language
from bot.messages import Reply
from nlu.language import detect_language

REPLY_NUMBER = {
    "zh": "回复 {number}：{title}",
    "en": "Reply {number} for: {title}",
    "es": "Responde {number} para: {title}",
    "fr": "Répondez {number} pour : {title}",
    "ar": "أرسل {number} لـ: {title}",
    "ru": "Ответьте {number}: {title}",
    "uk": "Відповідайте {number}: {title}",
}
SEND_LOCATION = {
    "zh": "📍 请点输入框旁的「+」，选择「位置」，把你的位置发给我。",
    "en": '📍 Tap "+" next to the input box, choose "Location" and send me where you are.',
    "es": '📍 Toca "+" junto al cuadro de texto, elige "Ubicación" y envíame dónde estás.',
    "fr": "📍 Touchez « + » à côté de la zone de saisie, choisissez « Position » et envoyez-moi où vous êtes.",
    "ar": "📍 اضغط على «+» بجانب مربع الكتابة، واختر «الموقع» وأرسل لي مكانك.",
    "ru": "📍 Нажмите «+» рядом с полем ввода, выберите «Местоположение» и отправьте, где вы.",
    "uk": "📍 Натисніть «+» біля поля введення, оберіть «Місцезнаходження» й надішліть, де ви.",
}


def render_turn(replies: list[Reply]) -> tuple[str, list[str]]:
    """One text for all of a turn's replies, and the button payloads by number (1 first)."""
    blocks: list[str] = []
    payloads: list[str] = []
    turn_language = next((reply.language for reply in replies if reply.language), None) or (
        detect_language(" ".join(reply.text for reply in replies), None)
    )
    for reply in replies:
        language = reply.language or turn_language
        parts = [reply.text.strip()] if reply.text.strip() else []
        if reply.cards:
            parts.append(card_lines(reply.cards, language))
        if reply.buttons:
            lines = []
            for button in reply.buttons:
                payloads.append(button.payload)
                template = in_language(REPLY_NUMBER, language)
                lines.append(template.format(number=len(payloads), title=button.title))
            parts.append("\n".join(lines))
        if reply.request_location:
            parts.append(in_language(SEND_LOCATION, language))
        if parts:
            blocks.append("\n\n".join(parts))
    return "\n\n".join(blocks), payloads


class NumberedChoices:
    """The buttons last offered to each citizen, by number, so replying "2" presses the second.

    Bounded (least recently used citizens are forgotten first) and short-lived: a number typed
    an hour after the list was shown is just text again.
    """

    def __init__(self, max_citizens: int = 50_000, ttl_seconds: float = 3600.0) -> None:
        self.max_citizens = max_citizens
        self.ttl_seconds = ttl_seconds
        self._offered: OrderedDict[str, tuple[float, list[str]]] = OrderedDict()

    def offer(self, sender_id: str, payloads: list[str]) -> None:
        """Remember this turn's numbered buttons; a turn without buttons forgets the old ones."""
        self._offered.pop(sender_id, None)
        if not payloads:
            return
        self._offered[sender_id] = (time.monotonic(), payloads)
        while len(self._offered) > self.max_citizens:
            self._offered.popitem(last=False)

    def payload_for(self, sender_id: str, text: str) -> str | None:
        """The payload behind a number the citizen typed (ASCII or full-width digits), if any."""
        offered = self._offered.get(sender_id)
        number = typed_number(text)
        if offered is None or number is None:
            return None
        offered_at, payloads = offered
        if time.monotonic() - offered_at > self.ttl_seconds:
            self._offered.pop(sender_id, None)
            return None
        return payloads[number - 1] if 1 <= number <= len(payloads) else None


def typed_number(text: str) -> int | None:
    """The choice number a citizen typed ("2", full-width "２"), or None if it is not one."""
    choice = text.strip().translate(_FULL_WIDTH_DIGITS)
    return int(choice) if choice.isascii() and choice.isdigit() and len(choice) <= 3 else None


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
