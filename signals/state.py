"""One entity's detection state, and its compact encoding (in memory and on the topic).

A worker may track millions of entities, so the state is held as the bytes of
this encoding (about 100 bytes for a live stream) rather than as Python
objects (about 2 KB): msgpack, fields by position, well-known context keys and
signal types by short codes, window starts in seconds, and detector states as
float32 arrays (every detector state is a few bounded statistics: decayed sums,
means, variances, counts). Lifecycle
states hold event times (ms), so they stay exact integers, and only signal
types that have left the default lifecycle keep one.

>>> s = EntityState(region="US")
>>> s.last_ws = 1_767_225_600_000
>>> s.add_context({"category": "beauty/skincare"})
>>> s.set_detector(1, [0.5, 12.25, 3.0])
>>> s.life[1] = [1, 1_767_225_600_000, 0, 2, 0, 0.8]
>>> raw = encode_state(s)
>>> len(raw)
72
>>> t = decode_state(raw)
>>> t.detector(1), t.life[1][1], t.last_ws == s.last_ws, t.context()
([0.5, 12.25, 3.0], 1767225600000, True, {'category': 'beauty/skincare'})
"""

from __future__ import annotations

from array import array

import msgspec

# context keys every entity of a type carries, stored as one letter
_SHORT = {"seller_id": "s", "category": "c", "seller_account_age_days": "a",
          "first_seen_ts": "f"}
_LONG = {v: k for k, v in _SHORT.items()}
_LASTING = frozenset({_SHORT["first_seen_ts"]})


class EntityState(msgspec.Struct, array_like=True):
    region: str
    last_s: int = -1  # start of the newest window seen, epoch seconds (windows are whole s)
    ctx: dict[str, str] = {}  # context later windows may lack (seller, category), short keys
    det: dict[int, bytes] = {}  # catalogue code -> detector state, float32 array
    life: dict[int, list[int | float]] = {}  # catalogue code -> lifecycle, when not default
    # catalogue code -> start (epoch s) of the warm-up of the entity's region, kept
    # only while the engine that saved the state was still warming up there
    warm: dict[int, int] = {}
    # cut down, silent past the TTL, to what its detectors keep longer (Engine.remembered):
    # of two copies with the same last window, the cut one is the later
    cut: bool = False
    # changes made since its last window (a reviewer's verdict, a pin): of two copies
    # with the same last window and cut, the one with more is the later
    rev: int = 0

    @property
    def last_ws(self) -> int:
        """Start of the newest window seen, epoch ms (-1: none yet)."""
        return self.last_s * 1000 if self.last_s >= 0 else -1

    @last_ws.setter
    def last_ws(self, ms: int) -> None:
        self.last_s = ms // 1000

    def context(self) -> dict[str, str]:
        return {_LONG.get(k, k): v for k, v in self.ctx.items()}

    def add_context(self, ctx: dict[str, str]) -> None:
        for k, v in ctx.items():
            self.ctx[_SHORT.get(k, k)] = v

    def lasting_context(self) -> dict[str, str]:
        """The stored context a state cut down past the TTL keeps (short keys): when
        the entity was first seen, which no later window can tell again.

        >>> s = EntityState(region="US")
        >>> s.add_context({"category": "beauty/skincare", "first_seen_ts": "60000"})
        >>> s.lasting_context()
        {'f': '60000'}
        """
        return {k: v for k, v in self.ctx.items() if k in _LASTING}

    def detector(self, code: int) -> list[float] | None:
        raw = self.det.get(code)
        return None if raw is None else array("f", raw).tolist()

    def set_detector(self, code: int, values: list[float]) -> None:
        self.det[code] = array("f", values).tobytes()


class StateHead(msgspec.Struct, array_like=True):
    """The leading fields of an encoded :class:`EntityState`, decoded without the rest
    (a few times faster): what a sweep needs to tell whether an entity went quiet."""

    region: str
    last_s: int = -1

    @property
    def last_ws(self) -> int:
        return self.last_s * 1000 if self.last_s >= 0 else -1


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(EntityState)
_head_decoder = msgspec.msgpack.Decoder(StateHead)


def packed(encoder: msgspec.msgpack.Encoder, obj: object) -> bytes:
    """``encoder.encode(obj)``, in an object of its own size: for bytes held long. (The
    encoder's own result is its buffer shrunk in place, and held as that it kept up
    to a third more memory than its bytes: about 308 against 260 B per tracked
    stream in ``python -m streams.bench.memory --entities 100000 --churn-rounds 0``.)

    >>> packed(_encoder, [1, "a"]) == _encoder.encode([1, "a"])
    True
    """
    buf = bytearray()
    encoder.encode_into(obj, buf)
    return bytes(buf)


def encode_state(state: EntityState) -> bytes:
    return packed(_encoder, state)


def decode_state(raw: bytes) -> EntityState:
    """Raises ``msgspec.DecodeError`` for bytes that are not an encoded state."""
    return _decoder.decode(raw)


def last_window(raw: bytes) -> tuple[int, bool, int]:
    """``last_ws`` of an encoded state, whether it was cut down, and how many changes
    it had since (``rev``): what merging copies of one entity compares (the newer is
    the greater). A copy written before a version that knew ``rev`` has 0.

    >>> last_window(encode_state(EntityState(region="US", last_s=60)))
    (60000, False, 0)
    >>> last_window(encode_state(EntityState(region="US", last_s=60, rev=2)))
    (60000, False, 2)
    """
    state = decode_state(raw)
    return state.last_ws, state.cut, state.rev


def decode_head(raw: bytes) -> StateHead:
    """The region and newest window of an encoded state, the rest left undecoded.

    >>> decode_head(encode_state(EntityState(region="US", last_s=60, ctx={"c": "toys"})))
    StateHead(region='US', last_s=60)
    """
    return _head_decoder.decode(raw)
