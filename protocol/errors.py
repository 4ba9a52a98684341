"""Typed errors of the protocol layer.

`DecodeError` and its subclasses say what is wrong with bytes received from outside; they blame the
sender. `InvalidSignature` and `InvalidKey` do the same for cryptographic material.
"""


class ProtocolError(Exception):
    """Base of every error raised by `protocol/` for bad input."""


class DecodeError(ProtocolError):
    """Bytes that are not a valid encoding of the expected document."""


class TooLarge(DecodeError):
    """Input over its size cap, rejected before decoding."""


class MalformedCbor(DecodeError):
    """Bytes that are not one well-formed CBOR item (truncated, trailing bytes, unsupported tags)."""


class NonCanonical(DecodeError):
    """Well-formed CBOR that is not in the deterministic encoding (RFC 8949 §4.2.1)."""


class SchemaError(DecodeError):
    """CBOR that does not match the document's schema: a field missing, unknown, mistyped or out of range."""


class InvalidKey(ProtocolError):
    """A public key that cannot be parsed, or whose checksum does not match."""


class InvalidSignature(ProtocolError):
    """A signature that does not verify for its document and key."""


class RuleViolation(ProtocolError):
    """A block or document that breaks a consensus rule.

    `code` is stable: the Duniter rule code (`BR_G66`) or the name of a June local rule
    (`L_TRANSACTIONS`); auditors, tests and peer scoring rely on it. `reason` says what was found
    and what was expected, in plain words.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
