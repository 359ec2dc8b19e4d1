"""The channels and senders the settings ask for, built once: the gateway's and the broadcasts'.

- `build_channels(conversation, settings)`: the web chat (always), Telegram when
  TELEGRAM_BOT_TOKEN is set, WeChat when WECHAT_TOKEN is set; `bot.stack.gateway_app` serves them.
- `configured_senders(settings)`: `{channel name: ChannelSender}` for a process without a
  gateway (the `broadcast` command); a gateway passes `{c.name: c.sender() for c in channels}`.
"""

from __future__ import annotations

from bot.channels import telegram, web, wechat
from bot.channels.base import Channel, ChannelSender
from bot.conversation import Conversation
from core.settings import Settings


def build_channels(conversation: Conversation, settings: Settings) -> list[Channel]:
    """Every configured channel; raises ValueError naming a malformed setting."""
    channels: list[Channel] = [web.WebChannel(conversation, settings)]
    if telegram.configured(settings):
        channels.append(telegram.TelegramChannel(conversation, settings))
    if wechat.configured(settings):
        channels.append(wechat.WeChatChannel(conversation, settings))
    return channels


def configured_senders(settings: Settings) -> dict[str, ChannelSender]:
    """Push senders by channel name, for every channel whose settings allow pushing."""
    senders: dict[str, ChannelSender] = {"web": web.sender(settings)}
    for channel_sender in (telegram.sender(settings), wechat.sender(settings)):
        if channel_sender is not None:
            senders[channel_sender.channel] = channel_sender
    return senders
