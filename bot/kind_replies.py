"""The gateway's own replies for when the assistant behind it cannot answer, in every language."""

from __future__ import annotations

from nlu.language import DEFAULT_LANGUAGE, detect_language, normalise_language

TRY_AGAIN = {
    "zh": "抱歉，我现在暂时无法回答，请稍后再试。",
    "en": "Sorry, I can't answer right now. Please try again in a moment.",
    "es": "Lo siento, ahora no puedo responder. Por favor, inténtalo de nuevo en un momento.",
    "fr": "Désolé, je ne peux pas répondre pour le moment. Réessayez dans un instant, s'il vous plaît.",
    "ar": "عذرًا، لا أستطيع الرد الآن. يُرجى المحاولة مرة أخرى بعد قليل.",
    "ru": "Извините, сейчас я не могу ответить. Пожалуйста, попробуйте ещё раз через минуту.",
    "uk": "Вибачте, зараз я не можу відповісти. Будь ласка, спробуйте ще раз за хвилину.",
}

SLOW_DOWN = {
    "zh": "消息有点多，请稍等片刻再发送。",
    "en": "That's a lot of messages at once. Please wait a moment before sending more.",
    "es": "Son muchos mensajes a la vez. Espera un momento antes de enviar más.",
    "fr": "Cela fait beaucoup de messages d'un coup. Patientez un instant avant d'en envoyer d'autres.",
    "ar": "هذه رسائل كثيرة دفعة واحدة. يُرجى الانتظار قليلًا قبل إرسال المزيد.",
    "ru": "Слишком много сообщений сразу. Подождите немного, прежде чем писать снова.",
    "uk": "Забагато повідомлень одразу. Зачекайте трохи, перш ніж писати знову.",
}


# Flood control's later refusals (bot/flood.py 'remind'), at most once per bucket refill.
PLEASE_WAIT = {
    "zh": "请稍等片刻。",
    "en": "Please wait a moment.",
    "es": "Espera un momento, por favor.",
    "fr": "Patientez un instant, s'il vous plaît.",
    "ar": "يُرجى الانتظار قليلًا.",
    "ru": "Пожалуйста, подождите немного.",
    "uk": "Будь ласка, зачекайте трохи.",
}


# Stickers, photos, voice messages, files, contacts...: nothing the assistant can read.
NOT_READ = {
    "zh": "抱歉，我只能读懂文字和发送的位置，看不懂图片、表情、语音或文件。请用文字告诉我您的问题。",
    "en": "Sorry, I can only read text and shared locations, not pictures, stickers, voice messages or files. Please type your question.",
    "es": "Lo siento, solo puedo leer texto y ubicaciones compartidas, no imágenes, stickers, mensajes de voz ni archivos. Escribe tu pregunta, por favor.",
    "fr": "Désolé, je ne lis que le texte et les positions partagées, pas les images, autocollants, messages vocaux ou fichiers. Écrivez votre question, s'il vous plaît.",
    "ar": "عذرًا، لا أستطيع قراءة سوى النصوص والمواقع المُرسلة، ولا أقرأ الصور أو الملصقات أو الرسائل الصوتية أو الملفات. يُرجى كتابة سؤالك.",
    "ru": "Извините, я понимаю только текст и отправленное местоположение, но не картинки, стикеры, голосовые сообщения или файлы. Пожалуйста, напишите ваш вопрос.",
    "uk": "Вибачте, я розумію лише текст і надіслане місцезнаходження, а не картинки, стікери, голосові повідомлення чи файли. Будь ласка, напишіть ваше запитання.",
}

# A message of spaces and invisible characters (zero-width spaces, direction marks) only.
EMPTY_MESSAGE = {
    "zh": "您的消息里没有文字。您想学什么？例如：“周末的英语课”。",
    "en": "I could not find any words in your message. What would you like to learn? For example: “English classes at the weekend”.",
    "es": "No encontré palabras en tu mensaje. ¿Qué te gustaría aprender? Por ejemplo: «clases de inglés el fin de semana».",
    "fr": "Je ne trouve aucun mot dans votre message. Qu'aimeriez-vous apprendre ? Par exemple : « cours d'anglais le week-end ».",
    "ar": "لم أجد أي كلمات في رسالتك. ماذا تودّ أن تتعلم؟ مثلًا: «دروس الإنجليزية في عطلة نهاية الأسبوع».",
    "ru": "В вашем сообщении нет слов. Чему вы хотели бы научиться? Например: «курсы английского по выходным».",
    "uk": "У вашому повідомленні немає слів. Чого ви хотіли б навчитися? Наприклад: «курси англійської у вихідні».",
}


def reply_language(text: str | None, hint: str | None) -> str:
    """The language to answer in when the assistant itself could not decide."""
    return detect_language(text or "", hint) or normalise_language(hint) or DEFAULT_LANGUAGE


def kind_text(table: dict[str, str], text: str | None, hint: str | None) -> str:
    return table.get(reply_language(text, hint), table[DEFAULT_LANGUAGE])
