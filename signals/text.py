"""Comment and title text, reduced to what coordinated posting and code words share.

Evaders spell a code word many ways: ``superclone``, ``s u p e r c l o n e``,
``sup3rcl0n3``, or with Cyrillic letters that look Latin. :func:`tokens`
undoes those: Unicode NFKC and case folding, confusable characters mapped to
the Latin letter or digit they imitate (the Unicode confusables table, from
``confusable-homoglyphs``), digits read as letters inside words, runs of
single letters joined.
Emoji and punctuation separate tokens; a domain (``wa.me``) stays one token.

>>> tokens("SUPERCLONE s u p e r c l o n e sup3rcl0n3 \u0455up\u0435r\u0441l\u043en\u0435 🔥")
['superclone', 'superclone', 'superclone', 'superclone']
>>> tokens("Love it!! message me on wa.me/5551234")
['love', 'it', 'message', 'me', 'on', 'wa.me', '5551234']

:func:`fingerprint` gives near-identical texts one key (a bottom-2 MinHash of
word 3-grams), and :func:`terms` the tokens that can be trends.
"""

from __future__ import annotations

import re
import unicodedata

import mmh3
from confusable_homoglyphs import utils as _confusable_data

#: texts with fewer tokens than this get no fingerprint: short ones ("love it") are
#: posted by many accounts independently
MIN_FINGERPRINT_TOKENS = 5
MIN_TERM_CHARS = 3
MAX_TERM_CHARS = 40
MIN_PHONE_DIGITS = 5

_TOKEN = re.compile(r"[^\W_]+(?:\.[^\W_]+)*")
_LEET_WORD = re.compile(r"[^\W\d_]\d+[^\W\d_]")
_LEET = str.maketrans("013457", "oieast")


def _confusables_to_ascii() -> dict[int, str]:
    """Map every non-ASCII character that Unicode lists as confusable with an ASCII
    letter or digit to that character."""
    table: dict[int, str] = {}
    for char, alikes in _confusable_data.load("confusables.json").items():
        if len(char) != 1 or char.isascii():
            continue
        for alike in alikes:
            target = alike["c"]
            if len(target) == 1 and target.isascii() and target.isalnum():
                table[ord(char)] = target.casefold()
                break
    return table


_TO_ASCII = _confusables_to_ascii()
_CONFUSABLE = frozenset(map(chr, _TO_ASCII))


def tokens(text: str) -> list[str]:
    """The text's tokens after undoing case, confusables, leetspeak and spacing tricks.

    >>> tokens("s.u.p.e.r.c.l.o.n.e or 1t01c0py or 1 t o 1 c o p y")
    ['superclone', 'or', 'itoicopy', 'or', 'itoicopy']
    >>> tokens("iphone15 is 100% legit")
    ['iphone15', 'is', '100', 'legit']
    """
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKC", text).casefold()
        if not _CONFUSABLE.isdisjoint(text):
            text = text.translate(_TO_ASCII)
    out: list[str] = []
    run: list[str] = []  # consecutive one-character tokens: "s u p e r"
    for token in _TOKEN.findall(text):
        if len(token) == 1:
            run.append(token)
            continue
        if "." in token:
            parts = token.split(".")
            if len(parts[-1]) < 2:  # not a domain: "s.u.p.e.r", "end."
                for part in parts:
                    if len(part) == 1:
                        run.append(part)
                    else:
                        _flush(run, out)
                        out.append(part)
                continue
        if run:
            _flush(run, out)
        if not token.isalpha() and _LEET_WORD.search(token):
            token = token.translate(_LEET)
        out.append(token)
    if run:
        _flush(run, out)
    return out


def _flush(run: list[str], out: list[str]) -> None:
    if len(run) >= 3:
        word = "".join(run)
        out.append(word.translate(_LEET) if _LEET_WORD.search(word) else word)
    else:
        out.extend(run)
    run.clear()


def fingerprint(toks: list[str]) -> str | None:
    """One key for near-identical texts, or None for texts too short to tell.

    The two smallest MurmurHash3 values over the text's word 3-grams (a bottom-2
    MinHash): two texts get the same key when those two 3-grams are the smallest
    in both, which is likely when they share most 3-grams and unlikely otherwise.

    >>> a = fingerprint(tokens("DM me on WhatsApp for the real deal at half price!!"))
    >>> a == fingerprint(tokens("dm me on whatsapp for the real deal at half price 🔥"))
    True
    >>> a == fingerprint(tokens("love this color when restock please show again"))
    False
    >>> fingerprint(tokens("love it 😍")) is None
    True
    """
    if len(toks) < MIN_FINGERPRINT_TOKENS:
        return None
    low1 = low2 = 0xFFFFFFFF
    for i in range(len(toks) - 2):
        h = mmh3.hash(f"{toks[i]} {toks[i + 1]} {toks[i + 2]}", signed=False)
        if h < low1:
            low1, low2 = h, low1
        elif low1 < h < low2:
            low2 = h
    return f"{low1:08x}{low2:08x}"


def terms(toks: list[str]) -> set[str]:
    """The distinct tokens that can be a trend: 3 to 40 characters; numbers only from
    5 digits (parts of phone numbers and handles, not prices or sizes).

    >>> sorted(terms(tokens("dm me 4 superclone superclone 120 5551234")))
    ['5551234', 'superclone']
    """
    return {t for t in toks if MIN_TERM_CHARS <= len(t) <= MAX_TERM_CHARS
            and (len(t) >= MIN_PHONE_DIGITS or not t.isdigit())}
