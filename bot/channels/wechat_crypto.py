"""WeChat Official Account callback security: request signatures and safe-mode AES messages.

WeChat signs every callback with sha1 over the sorted [token, timestamp, nonce]; in safe mode
(`encrypt_type=aes`) the message travels AES-256-CBC encrypted, signed again with the
ciphertext (`msg_signature`). The format (WXBizMsgCrypt): key = base64(EncodingAESKey + "="),
IV = the key's first 16 bytes, PKCS#7 padding to 32-byte blocks, plaintext = 16 random bytes
+ 4-byte big-endian XML length + XML + AppID.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

AES_KEY_LENGTH = 43  # characters of an EncodingAESKey, as the Official Account platform shows it
_BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16


class WeChatCryptoError(ValueError):
    """A safe-mode message that does not decrypt, or was meant for another AppID."""


def signature(*parts: str) -> str:
    """sha1 hex of the sorted parts joined: WeChat's `signature` and `msg_signature`."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_matches(expected_parts: tuple[str, ...], given: str) -> bool:
    """Constant-time comparison of a request's signature with the one we compute."""
    return hmac.compare_digest(signature(*expected_parts).encode(), given.encode())


class MessageCrypto:
    """Encrypts replies and decrypts callbacks for one Official Account (AppID + EncodingAESKey)."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        if len(encoding_aes_key) != AES_KEY_LENGTH:
            raise ValueError(
                f"WECHAT_AES_KEY must be the {AES_KEY_LENGTH}-character EncodingAESKey from the "
                f"Official Account's server configuration (got {len(encoding_aes_key)} characters)"
            )
        try:
            self._key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as error:
            raise ValueError("WECHAT_AES_KEY is not a valid EncodingAESKey (base64)") from error
        if not app_id:
            raise ValueError("WECHAT_APP_ID must be set to use safe mode (WECHAT_AES_KEY)")
        self._token = token
        self.app_id = app_id

    def decrypt(self, encrypted: str) -> str:
        """The XML inside an `<Encrypt>` element; raises WeChatCryptoError if it is not ours."""
        try:
            ciphertext = base64.b64decode(encrypted, validate=True)
        except binascii.Error as error:
            raise WeChatCryptoError("Encrypt is not base64") from error
        if not ciphertext or len(ciphertext) % 16:
            raise WeChatCryptoError("Encrypt is not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        pad = padded[-1]
        if not 1 <= pad <= _BLOCK or padded[-pad:] != bytes([pad]) * pad:
            raise WeChatCryptoError("bad padding (wrong EncodingAESKey?)")
        content = padded[16:-pad]
        if len(content) < 4:
            raise WeChatCryptoError("message too short")
        (length,) = struct.unpack(">I", content[:4])
        xml, app_id = content[4 : 4 + length], content[4 + length :]
        if len(xml) != length:
            raise WeChatCryptoError("message length does not match")
        if not hmac.compare_digest(app_id, self.app_id.encode("utf-8")):
            raise WeChatCryptoError("message is for another AppID")
        try:
            return xml.decode("utf-8")
        except UnicodeDecodeError as error:
            raise WeChatCryptoError("message is not UTF-8") from error

    def encrypt(self, xml: str) -> str:
        """Base64 ciphertext of an XML reply, for the `<Encrypt>` element."""
        body = xml.encode("utf-8")
        plain = os.urandom(16) + struct.pack(">I", len(body)) + body + self.app_id.encode("utf-8")
        pad = _BLOCK - len(plain) % _BLOCK
        encryptor = self._cipher().encryptor()
        ciphertext = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
        return base64.b64encode(ciphertext).decode("ascii")

    def message_signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self._token, timestamp, nonce, encrypted)

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))
