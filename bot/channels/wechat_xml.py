"""WeChat callback XML: parsed safely (no DTDs, no entities) and written with CDATA as WeChat does."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_BODY_BYTES = 64 * 1024  # a WeChat callback is a few hundred bytes


class BadCallbackError(ValueError):
    """The body is not a WeChat callback we accept (too big, a DTD or entities, not XML)."""


@dataclass(frozen=True)
class CallbackMessage:
    """The fields of a WeChat message or event that learncity reads (all as WeChat sends them)."""

    to_user: str  # the Official Account's original id (gh_...)
    from_user: str  # the citizen's OpenID
    create_time: str
    msg_type: str  # text, location, event, voice, image, ...
    msg_id: str = ""
    content: str = ""
    latitude: str = ""  # Location_X
    longitude: str = ""  # Location_Y
    label: str = ""
    event: str = ""  # subscribe, unsubscribe, CLICK, VIEW, LOCATION, ...
    event_key: str = ""
    recognition: str = ""  # a voice message's speech-to-text, when the account enables it

    @property
    def dedupe_key(self) -> str:
        """WeChat's retries of one message share its MsgId; events share sender + CreateTime
        (and, being the same callback, the event and its key: two events in one second differ)."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"event:{self.from_user}:{self.create_time}:{self.event}:{self.event_key}"


def parse_root(body: bytes) -> dict[str, str]:
    """The child elements of `<xml>` as a dict of text; raises BadCallbackError."""
    if len(body) > MAX_BODY_BYTES:
        raise BadCallbackError(f"body of {len(body)} bytes is over {MAX_BODY_BYTES}")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise BadCallbackError(f"refused XML ({type(error).__name__})") from error
    except ElementTree.ParseError as error:
        raise BadCallbackError(f"not XML ({error})") from error
    if root.tag != "xml":
        raise BadCallbackError(f"root element is <{root.tag}>, expected <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


def parse_message(fields: dict[str, str]) -> CallbackMessage:
    """A callback's fields as a message; raises BadCallbackError when a required one is missing."""
    missing = [name for name in ("ToUserName", "FromUserName", "MsgType") if not fields.get(name)]
    if missing:
        raise BadCallbackError(f"missing {', '.join(missing)}")
    return CallbackMessage(
        to_user=fields["ToUserName"],
        from_user=fields["FromUserName"],
        create_time=fields.get("CreateTime", ""),
        msg_type=fields["MsgType"].lower(),
        msg_id=fields.get("MsgId", "") or fields.get("MsgID", ""),
        content=fields.get("Content", ""),
        latitude=fields.get("Location_X", ""),
        longitude=fields.get("Location_Y", ""),
        label=fields.get("Label", ""),
        event=fields.get("Event", ""),
        event_key=fields.get("EventKey", ""),
        recognition=fields.get("Recognition", ""),
    )


def text_reply(to_user: str, from_user: str, content: str, now: int | None = None) -> str:
    """A passive text reply: the answer carried in the callback's own HTTP response."""
    create_time = now if now is not None else int(time.time())
    return (
        f"<xml><ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType>{_cdata('text')}</MsgType>"
        f"<Content>{_cdata(content)}</Content></xml>"
    )


def encrypted_reply(encrypted: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    """The safe-mode envelope around an encrypted passive reply."""
    return (
        f"<xml><Encrypt>{_cdata(encrypted)}</Encrypt>"
        f"<MsgSignature>{_cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{_digits(timestamp)}</TimeStamp>"
        f"<Nonce>{_cdata(nonce)}</Nonce></xml>"
    )


def _cdata(text: str) -> str:
    # "]]>" would end the section early: split it across two sections.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit()) or str(int(time.time()))
