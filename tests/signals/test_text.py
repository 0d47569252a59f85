"""Comment text normalisation and fingerprints: the tricks evaders use, undone."""

from __future__ import annotations

import pytest

from signals.text import fingerprint, terms, tokens


@pytest.mark.parametrize("spelling", [
    "superclone", "SuperClone", "s u p e r c l o n e", "s.u.p.e.r.c.l.o.n.e",
    "sup3rcl0n3", "\u0455up\u0435r\u0441l\u043en\u0435",  # Cyrillic look-alikes
    "".join(chr(ord(c) + 0xFEE0) for c in "superclone"),  # full-width forms
])
def test_obfuscated_spellings_become_one_term(spelling: str) -> None:
    assert tokens(f"get the {spelling} 🔥🔥 now") == ["get", "the", "superclone", "now"]


def test_real_text_keeps_its_words() -> None:
    assert tokens("Größe 42? Passt gut 👍") == ["grösse", "42", "passt", "gut"]  # casefold
    assert tokens("これは本物ですか") == ["これは本物ですか"]  # no spaces: one token
    assert tokens("iphone15 at 4k, wa.me/5551234") == ["iphone15", "at", "4k", "wa.me",
                                                       "5551234"]


def test_fingerprint_is_shared_by_near_copies_only() -> None:
    base = fingerprint(tokens("dm me on whatsapp for the real deal at half price"))
    assert base is not None
    for copy in ("DM me on WhatsApp for the real deal at half price!!!",
                 "dm me on whatsapp for the real deal at half price 🔥",
                 "dm  me on whatsapp, for the real deal at half price"):
        assert fingerprint(tokens(copy)) == base
    assert fingerprint(tokens("love this color when is the restock please")) != base
    assert fingerprint(tokens("so cute")) is None  # too short to tell copies apart


def test_terms_skip_short_tokens_and_small_numbers() -> None:
    assert terms(tokens("dm 4 price 120 now 5551234 ok")) == {"price", "now", "5551234"}
