"""Telegram handlers: each turns one kind of update into an `IncomingMessage` and sends the replies.

Commands are shortcuts to intents, sent to Rasa as "/intent" payloads:
/start → greet, /help → help, /language [code] → set_language, /mydata → my_data,
/forget → forget_me, /stop → unsubscribe_events (citizens expect /stop to stop the festival
news; as an explicit command it is acted on at once, like the menu's button, and a citizen
with no subscription is told so). Any other command is answered as /help. A photo's or file's caption is
read as the question; what has no words (stickers, photos, voice messages, files, contacts,
polls) gets a short note that only text and locations are read. Only private chats are served:
what a citizen asks (and may consent to store) is not for a group to read; in a group the bot
says only, when someone addresses it (a mention, a command for it, a reply to it), where to
ask it privately.

Every sentence the gateway says itself (expired button, note, "try again") is in the language
the citizen is known by (`Conversation.kind_reply`), not only their phone's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass, field

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.base import RecipientUnreachableError
from bot.channels.telegram_render import BUTTON_EXPIRED, Reachability, TelegramRenderer
from bot.conversation import Conversation
from bot.kind_replies import NOT_READ, TRY_AGAIN
from bot.messages import IncomingMessage, Location
from nlu.language import normalise_language

logger = logging.getLogger(__name__)

COMMAND_PAYLOADS = {
    "start": "/greet",
    "help": "/help",
    "language": "/set_language",
    "mydata": "/my_data",
    "forget": "/forget_me",
    "stop": "/unsubscribe_events",
}
_PRIVATE = filters.ChatType.PRIVATE
ASK_PRIVATELY = {
    "zh": "我只在私聊中回答，这样您问的内容只有您知道：{link}",
    "en": "I answer in a private chat, so what you ask stays between us: {link}",
    "es": "Respondo en un chat privado, para que lo que preguntes quede entre nosotros: {link}",
    "fr": "Je réponds en conversation privée, pour que vos questions restent entre nous : {link}",
    "ar": "أجيب في محادثة خاصة، حتى يبقى ما تسأل عنه بيننا: {link}",
    "ru": "Я отвечаю в личном чате, чтобы ваши вопросы остались между нами: {link}",
    "uk": "Я відповідаю в особистому чаті, щоб ваші запитання залишилися між нами: {link}",
}


class FailureCount:
    """Counts Bot API failures and logs one line per `every_seconds`, not one per chat."""

    def __init__(self, every_seconds: float = 30.0) -> None:
        self.every_seconds = every_seconds
        self._count = 0
        self._logged_at = -every_seconds

    def record(self, kind: str) -> None:
        self._count += 1
        now = time.monotonic()
        if now - self._logged_at >= self.every_seconds:
            logger.warning(
                "telegram: %d send(s) to the Bot API failed (%s, latest) in the last %.0f s; "
                "not retried, the citizens are not asked to try again",
                self._count,
                kind,
                now - self._logged_at if self._logged_at >= 0 else 0.0,
            )
            self._count, self._logged_at = 0, now


@dataclass
class ChannelContext:
    """What every handler needs, kept in `application.bot_data`."""

    conversation: Conversation
    renderer: TelegramRenderer
    reachability: Reachability
    send_failures: FailureCount = field(default_factory=FailureCount)


def add_handlers(application: Application, channel: ChannelContext) -> None:  # type: ignore[type-arg]
    application.bot_data["learncity"] = channel
    application.add_handler(CommandHandler("start", start, filters=_PRIVATE))
    application.add_handler(CommandHandler("help", help_command, filters=_PRIVATE))
    application.add_handler(CommandHandler("language", language_command, filters=_PRIVATE))
    application.add_handler(CommandHandler("mydata", my_data_command, filters=_PRIVATE))
    application.add_handler(CommandHandler("forget", forget_command, filters=_PRIVATE))
    application.add_handler(CommandHandler("stop", stop_command, filters=_PRIVATE))
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & _PRIVATE & filters.COMMAND, help_command)
    )
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & _PRIVATE & filters.TEXT, text_message)
    )
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & _PRIVATE & filters.LOCATION, location_message)
    )
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & _PRIVATE & filters.CAPTION, caption_message)
    )
    # Whatever else a citizen sends (not a service message such as "pinned"): no words to read.
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & _PRIVATE & ~filters.StatusUpdate.ALL, unreadable_message
        )
    )
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.GROUPS & (filters.TEXT | filters.CAPTION),
            group_message,
        )
    )
    application.add_handler(CallbackQueryHandler(button_press))
    application.add_handler(ChatMemberHandler(chat_member_update, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_error_handler(handler_failed)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, payload=COMMAND_PAYLOADS["start"])


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, payload=COMMAND_PAYLOADS["help"])


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/language` asks which language; `/language fr` switches at once."""
    payload = COMMAND_PAYLOADS["language"]
    if context.args:
        chosen = normalise_language(context.args[0]) or context.args[0][:16]
        payload += json.dumps({"language": chosen})
    await _answer(update, context, payload=payload)


async def my_data_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, payload=COMMAND_PAYLOADS["mydata"])


async def forget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, payload=COMMAND_PAYLOADS["forget"])


async def stop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stop stops the festival news, as "stop the festival news" does (not the bot itself:
    blocking it is Telegram's own menu, which arrives as `my_chat_member`)."""
    await _answer(update, context, payload=COMMAND_PAYLOADS["stop"])


async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await _answer(update, context, text=update.message.text)


async def caption_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo or file sent with words: the words are the question."""
    assert update.message is not None
    await _answer(update, context, text=update.message.caption)


async def unreadable_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A sticker, photo, voice message, file, contact, poll...: say kindly what can be read."""
    await _say(update, context, NOT_READ)


async def group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a group, answer only who addresses the bot, and only with where to ask it."""
    message, user = update.message, update.effective_user
    if message is None or user is None or not _addressed_to_bot(message, context.bot.username):
        return
    asking = IncomingMessage(
        sender_id=f"telegram:{user.id}",  # their private chat with the bot has their user id
        channel="telegram",
        text=message.text or message.caption,
        language_hint=user.language_code,
    )
    reply = await _channel(context).conversation.kind_reply(ASK_PRIVATELY, asking)
    link = f"https://t.me/{context.bot.username}"
    await _send_text(context, message.chat.id, reply.text.format(link=link))


async def location_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared point: ask for what is near it, and take the location keyboard away."""
    assert update.message is not None and update.message.location is not None
    point = update.message.location
    await _answer(update, context, location=Location(point.latitude, point.longitude))


async def button_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline button: stop the client's spinner, take the pressed message's buttons away,
    then send the button's payload."""
    query = update.callback_query
    assert query is not None
    try:
        await query.answer()
    except BadRequest as error:
        # Delivered too late to stop the spinner (the bot was down): the press still counts.
        logger.info("telegram: a button press was answered late: %s", error)
    chat = update.effective_chat
    if chat is None or chat.type != chat.PRIVATE:
        return
    await _remove_buttons(query)
    payload = _channel(context).renderer.payloads.decode(query.data)
    if payload is None:
        await _say(update, context, BUTTON_EXPIRED)
        return
    await _answer(update, context, payload=payload)


async def chat_member_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The citizen blocked the bot (no more broadcasts) or unblocked it."""
    change = update.my_chat_member
    if change is None or change.chat.type != change.chat.PRIVATE:
        return
    sender_id = f"telegram:{change.chat.id}"
    reachability = _channel(context).reachability
    if change.new_chat_member.status == ChatMemberStatus.BANNED:  # "kicked"
        await reachability.citizen_blocked(sender_id)
    elif change.new_chat_member.status == ChatMemberStatus.MEMBER:
        await reachability.citizen_wrote(sender_id)


async def handler_failed(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log for the operator; tell the citizen, kindly, to try again (unless the Bot API itself
    is what failed: a message sent into a failing API would fail too, or arrive twice)."""
    if isinstance(context.error, NetworkError) and not isinstance(context.error, BadRequest):
        _channel(context).send_failures.record(type(context.error).__name__)
        return
    logger.error("telegram update could not be handled", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    await _say(update, context, TRY_AGAIN)


async def _answer(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    *,
    text: str | None = None,
    payload: str | None = None,
    location: Location | None = None,
) -> None:
    chat = update.effective_chat
    assert chat is not None
    channel = _channel(context)
    message = _incoming(update, text=text, payload=payload, location=location)
    sender_id = message.sender_id
    replies = await channel.conversation.handle(
        message, before=lambda: channel.reachability.citizen_wrote(sender_id)
    )
    try:
        await channel.renderer.send_replies(
            chat.id,
            replies,
            language_hint=message.language_hint,
            remove_location_keyboard=location is not None,
        )
    except RecipientUnreachableError:
        pass  # blocked the bot: logged and recorded by the reachability tracker
    except NetworkError as error:
        if isinstance(error, BadRequest):
            raise  # our request was wrong: a bug for the operator (handler_failed logs it)
        # The Bot API did not answer in time for this chat (or at all): Telegram may have
        # shown the answer, and a "try again" would only queue behind it. Log, do not resend.
        channel.send_failures.record(type(error).__name__)


def _addressed_to_bot(message: Message, username: str) -> bool:
    """A mention of the bot, a command for it (/help@bot), or a reply to one of its messages."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.is_bot:
        return replied.from_user.username == username
    wanted = username.lower()
    words = [*message.parse_entities().values(), *message.parse_caption_entities().values()]
    return any(
        word.lower() == f"@{wanted}" or word.lower().endswith(f"@{wanted}") for word in words
    )


def _incoming(
    update: Update,
    *,
    text: str | None = None,
    payload: str | None = None,
    location: Location | None = None,
) -> IncomingMessage:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    language_hint = user.language_code if user else None
    return IncomingMessage(
        sender_id=f"telegram:{chat.id}",
        channel="telegram",
        text=text,
        location=location,
        payload=payload,
        language_hint=normalise_language(language_hint) or language_hint,
        message_id=str(update.update_id),
    )


async def _say(update: Update, context: ContextTypes.DEFAULT_TYPE, table: dict[str, str]) -> None:
    """One of the gateway's own sentences, in the language the citizen is known by."""
    text = update.message.text if update.message else None  # the citizen's, never the bot's
    reply = await _channel(context).conversation.kind_reply(table, _incoming(update, text=text))
    assert update.effective_chat is not None
    await _send_text(context, update.effective_chat.id, reply.text)


async def _remove_buttons(query: CallbackQuery) -> None:
    """Once pressed, a message's buttons are stale: "more" pages on from the latest search, so
    an old one would show a page the citizen did not ask for, and a yes/no would answer a
    question no longer asked. The answer that follows offers fresh buttons where they apply."""
    if query.inline_message_id is None and not isinstance(query.message, Message):
        return  # too old for Telegram to show us the message; nothing to edit
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError as error:  # e.g. already removed by a double tap; the answer matters more
        logger.debug("telegram: the pressed message's buttons stay: %s", error)


async def _send_text(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str) -> None:
    with contextlib.suppress(RecipientUnreachableError):
        await _channel(context).renderer.send_text(chat_id, text)


def _channel(context: ContextTypes.DEFAULT_TYPE) -> ChannelContext:
    return context.bot_data["learncity"]  # type: ignore[no-any-return]
