"""Comment and title text, reduced to what coordinated posting and code words share.

Evaders spell a code word many ways: ``superclone``, ``s u p e r c l o n e``,
``sup3rcl0n3``, ``ꜱᴜᴘᴇʀᴄʟᴏɴᴇ``, ``supєяcloиє``, ``ŝüpérçlöñé``, or with Cyrillic
letters that look Latin. :func:`tokens` undoes those: Unicode NFKC and case
folding, confusable characters mapped to the Latin letter or digit they imitate
(the Unicode confusables table, from ``confusable-homoglyphs``), words of
mixed alphabets or heaped accents read by ``decancer``, digits read as letters
inside words, runs of single letters joined, a letter drawn out
(``supeeerclone``) read as the word.
Emoji and punctuation separate tokens; a domain (``wa.me``) stays one token.

>>> tokens("SUPERCLONE s u p e r c l o n e sup3rcl0n3 \u0455up\u0435r\u0441l\u043en\u0435 🔥")
['superclone', 'superclone', 'superclone', 'superclone']
>>> tokens("Love it!! message me on wa.me/5551234")
['love', 'it', 'message', 'me', 'on', 'wa.me', '5551234']

:func:`fingerprint` gives near-identical texts one key (a bottom-2 MinHash of
15-character shingles of the text with its spaces and repeated letters taken
out), and :func:`terms` the tokens that can be trends.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, KeysView
from importlib import resources

import langcodes
import mmh3
from confusable_homoglyphs import utils as _confusable_data
from decancer_py import parse as _decancer
from icu4py.breakers import WordBreaker
from icu4py.messageformat import MessageFormat
from wordfreq import available_languages, get_frequency_dict

#: texts with fewer tokens than this get no fingerprint: short ones ("love it") are
#: posted by many accounts independently
MIN_FINGERPRINT_TOKENS = 5
#: characters in a fingerprint's shingle: about three words, so texts that share
#: common words but not phrases ("love this", "so cute") stay apart
SHINGLE_CHARS = 15
MIN_TERM_CHARS = 3
MIN_DENSE_TERM_CHARS = 2  # Chinese, Japanese, Korean
MAX_TERM_CHARS = 40
MIN_PHONE_DIGITS = 5


def _char_class(codepoints: list[int]) -> str:
    """A regex character class body of ascending code points, as ranges.

    >>> _char_class([0x41, 0x42, 0x43, 0x5F])
    'A-C_'
    """
    out, start = [], None
    for i, cp in enumerate(codepoints):
        start = cp if start is None else start
        if i + 1 == len(codepoints) or codepoints[i + 1] != cp + 1:
            out.append(re.escape(chr(start)) + ("" if cp == start else "-" + re.escape(chr(cp))))
            start = None
    return "".join(out)


def _mark_ranges() -> str:
    """A character class body of the combining marks of the basic plane (vowel
    signs, viramas, tone marks of living scripts): ``\\w`` leaves them out, which
    would cut Thai or Hindi words apart."""
    # the basic plane only: sre then tests a class by bitmap
    return _char_class([cp for cp in range(0x10000) if unicodedata.category(chr(cp))[0] == "M"])


_MARKS = _mark_ranges()
_WORD = rf"[\w{_MARKS}]+"  # underscores are spaces (see tokens)
#: a token: a word, or words parted by dots (a domain)
_TOKEN = re.compile(rf"{_WORD}(?:\.{_WORD})*")
_ASCII_TOKEN = re.compile(r"[^\W_]+(?:\.[^\W_]+)*")
#: where a text has both "-" and ".": words joined by either, then parted at their
#: hyphens but in a domain ("fake-shop.com", but "t-shirt": see _unhyphened); one
#: pass, with no backtracking to cost
_ASCII_JOINED = re.compile(r"[^\W_]+(?:[-.][^\W_]+)*")
_JOINED = re.compile(rf"{_WORD}(?:[-.]{_WORD})*")
_ASCII_LETTER = re.compile("[a-z]")  # (the text is lower case by then)
_HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Chinese characters (also Japanese)
_KANA_CHARS = "\u3040-\u30ff"  # hiragana, katakana
_HANGUL_CHARS = "\u1100-\u11ff\uac00-\ud7af"
#: scripts written without spaces between words (Thai, Lao, Burmese, Khmer, Chinese,
#: Japanese): split by ICU's dictionaries
_UNSPACED_CHARS = f"\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff{_KANA_CHARS}{_HAN_CHARS}"
_UNSPACED = re.compile(f"[{_UNSPACED_CHARS}]")
_HAN = re.compile(f"[{_HAN_CHARS}]")
#: scripts whose characters are syllables or morphemes: two make a word
_DENSE = re.compile(f"[{_HANGUL_CHARS}{_KANA_CHARS}{_HAN_CHARS}]")
#: a run of digit groups that may be a phone number: "555-123-4567", "(555) 123 4567",
#: not after a letter ("abc555-123-4567") but for one of a script written without
#: spaces, or Korean, which writes a word's particles onto it ("電話は090-1234-5678")
_DIGIT_RUN = re.compile(
    rf"(?<![^\W{_UNSPACED_CHARS}{_HANGUL_CHARS}])(?<!\+)\+?\(?\d[\d \-().]*\d")
_GROUPED_DIGITS = re.compile(r"\d[ \-().]+\d")  # a quick test before _DIGIT_RUN
#: the same with letters for digits in its groups ("o812-3456-789o"); each group has a
#: real digit, so a word after a number ("0812 3456 789 lol") is not read into it
_LETTER_GROUP = r"[oli]*\d[\doli]*"
_LETTERED_RUN = re.compile(rf"(?<![\w+])\+?\(?{_LETTER_GROUP}(?:[ \-().]+{_LETTER_GROUP})+(?!\w)")
_LETTER_BY_DIGIT = re.compile(r"\d[oli]|[oli]\d")  # a second quick test, for it
_LETTERS_AS_DIGITS = str.maketrans("oli", "011")
MAX_LETTER_DIGITS = 3
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[\-.]\d{1,2}[\-.]\d{2,4}")
#: a handle written with underscores: "@real_deals_shop"
_HANDLE = re.compile(r"@([^\W_]+(?:_+[^\W_]+)+)")
MIN_PHONE_JOIN_DIGITS, MAX_PHONE_DIGITS = 7, 15
#: digits Chinese and Japanese write as characters (ideographic zero and 零 for zero),
#: in a run of 7-15 of them (a phone number), maybe in groups: read as ASCII digits
_KANJI_DIGITS = "\u3007\u96f6\u4e00\u4e8c\u4e09\u56db\u4e94\u516d\u4e03\u516b\u4e5d"
_KANJI_DIGIT_RUN = re.compile(
    f"[{_KANJI_DIGITS}](?:[ \\-\u30fc\u2010]*[{_KANJI_DIGITS}]){{{MIN_PHONE_JOIN_DIGITS - 1},}}")
_FROM_KANJI = str.maketrans(_KANJI_DIGITS + "\u30fc\u2010", "00123456789--")  # ー and hyphen as -
#: a digit group's separator as a phone's keyboard or a word processor types it: dashes
#: (hyphen, en and em dash, minus sign, ...) and bullets or middle dots between digits,
#: read as "-" and "." ("0812\u20143456\u20147890", "555\u2022123\u20224567")
_DASHES, _DOTS = "\u2010-\u2015\u2212\ufe58\ufe63", "\u00b7\u2022\u2219\u22c5"
_DIGIT_SEPARATOR = re.compile(f"(\\d ?)(?:([{_DASHES}])|[{_DOTS}])(?= ?\\d)")
#: a quick test before both: one scan for any of their characters
_KANJI_OR_SEPARATOR = re.compile(f"[{_KANJI_DIGITS}{_DASHES}{_DOTS}]")
_LEET_WORD = re.compile(r"[^\W\d_]\d+[^\W\d_]")
_LEET = str.maketrans("013457", "oieast")
_LEET_BUT_ONES = str.maketrans("03457", "oeast")  # a "1" may be "i" or "l"
_DIGITS_IN_WORD = re.compile(r"(?<=[^\W\d_])\d+(?=[^\W\d_])")
MAX_LEET_ONES = 3  # a word with more "1"s has each read as "i"
#: "@" for "a" between letters ("whats@pp", "c@sh."), not in an address
#: ("ann@mail.com") or before an account id ("line@abc123")
_AT_AS_A = re.compile(r"(?<=[^\W\d_])@(?=[^\W\d_]+(?!\w|\.[^\W_]))")
#: "$" for "s" before a letter ("$uperclone", "cla$$ic"), not a price ("20$", "$20")
_DOLLAR_AS_S = re.compile(r"(?<!\d)\$+(?=[^\W\d_])")
#: "€" for "e" between letters ("sup€rclone"), not by a price ("20€", "€20")
_EURO_AS_E = re.compile(r"(?<=[^\W\d_])€(?=[^\W\d_])")
#: "¢" for "c" before a letter ("¢lone", "ѕυρєя¢ℓσиє"), not by a price ("99¢", "¢99")
_CENT_AS_C = re.compile(r"(?<!\d)¢(?=[^\W\d_])")
#: punctuation that is part of a word's spelling, between its letters (see
#: _in_word_marks): an apostrophe in Ukrainian and Belarusian, Hebrew's geresh and
#: gershayim, Catalan's middle dot
_CYRILLIC_APOSTROPHE = re.compile("(?<=[\u0400-\u04ff])['\u2019](?=[\u0400-\u04ff])")
_HEBREW_GERESH = re.compile("(?<=[\u05d0-\u05ea])['\u2019\u05f3](?=[\u05d0-\u05ea])")
_HEBREW_GERSHAYIM = re.compile('(?<=[\u05d0-\u05ea])["\u05f4](?=[\u05d0-\u05ea])')
_CATALAN_DOT = re.compile("(?<=l)\u00b7(?=l)")
#: "|" for "l" or "i" beside letters: "te|egram", "he||o", "|ink", "|phone" (a run
#: of letters and bars, matched from its start only: a long run of bars is no trap)
_PIPED = re.compile(r"(?<![^\W\d_])(?<!\|)[^\W\d_]*+(?:\|++[^\W\d_]++)+")
MAX_PIPES = 3  # a word with more "|"s is not looked up in English
#: a dot written so a link is not one: "wa[.]me", "bit(dot)ly", "shop {.} com"
_DEFANGED_DOT = re.compile(r"(?<=[^\W_])\s*[\[({<]\s*(?:\.|dot)\s*[\])}>]\s*(?=[^\W_])")
#: the same without brackets, before the endings of most contact links: "gmail dot
#: com", "t dot me", "wa . me" (not "polka dot dress", nor "love it. me too")
_SPELLED_DOT = re.compile(
    r"(?<=[^\W_])(?: dot | \. )(?=(?:com|net|org|me|ly|io|co|gg)\b)")
#: marks left on a Latin letter or digit after NFKC (which composes real accents):
#: strike-through, underline and stacked "zalgo" marks drawn over a word
_MARK_ON_LATIN = re.compile(rf"[a-z0-9][{_MARKS}]+")
_HAS_MARK = re.compile(f"[{_MARKS}]")  # a quick test before it
#: regional-indicator letters (🇦-🇿): two side by side that name a region are a
#: flag (🇺🇸), kept as an emoji; one on its own, as an evader writes them
#: ("🇼 🇭 🇦 🇹 🇸"), or a run of them that is not all flags, is letters
_REGIONAL = re.compile("[\U0001F1E6-\U0001F1FF]+")
_FIRST_REGIONAL = 0x1F1E6
_REPEATED = re.compile(r"(?<=(.))\1+")  # the 2nd, 3rd, ... of a run of one character
#: letters of the alphabetic scripts (Latin, Greek, Cyrillic, Armenian), lower case:
#: not those of scripts whose characters are syllables or words ("哈哈哈" is laughter)
_ALPHABETIC = "a-z\u00df-\u024f\u0370-\u03ff\u0400-\u052f\u0561-\u0587"
#: such a letter written three or more times in a row: drawn out ("reaaal", "даааа")
_DRAWN_OUT = re.compile(f"([{_ALPHABETIC}])\\1{{2,}}")
_ROMAN = re.compile("m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})")
MAX_DRAWN_OUT_RUNS = 3  # a word with more drawn-out letters has every run squeezed to one
#: English words and how often each is used (wordfreq's "small" list, ~29,000 words of
#: chat, subtitles, web and books): which of "so" and "soo" a drawn-out "sooo" means
_VOCABULARY: dict[str, float] = get_frequency_dict("en", wordlist="small")


def _rewrites() -> dict[int, str | None]:
    """Characters rewritten after NFKC: invisible format characters (zero-width
    space and joiners, soft hyphen, bidi controls, tag characters) dropped, so they
    do not split a word; the negative circled and squared letters (which NFKC leaves
    as they are) and the small capitals of "fancy text" (``ꜱᴜᴘᴇʀᴄʟᴏɴᴇ``, which
    Unicode does not list as confusable) read as the letters they show; the
    digits of the scripts of the basic plane (Arabic-Indic, Devanagari, Thai, ...) as
    ASCII digits, so a phone number is one term however it is written; and so the
    circled digits and numbers NFKC leaves as they are (negative, double and dingbat
    ones: ``❺``, ``⓹``, ``➎``, ``⓫``), as NFKC reads ``⑤`` and ``⑪``."""
    table: dict[int, str | None] = {}
    for cp in itertools.chain(range(0x10000), range(*_ENCLOSED_SUPPLEMENT)):
        category = unicodedata.category(chr(cp))
        if category == "Cf":
            table[cp] = None
        elif category == "Nd" and cp >= 0x80:
            table[cp] = str(unicodedata.digit(chr(cp)))
        elif category == "Ll" and (small := _SMALL_CAPITAL.fullmatch(
                unicodedata.name(chr(cp), ""))):
            table[cp] = small[1].lower()
        elif (category == "No" and "CIRCLED" in unicodedata.name(chr(cp), "")
              and unicodedata.normalize("NFKC", chr(cp)) == chr(cp)):
            table[cp] = str(int(unicodedata.numeric(chr(cp))))
    for first, last in _ASTRAL_FORMATS:
        table.update(dict.fromkeys(range(first, last + 1)))
    for first in _BOXED_LETTERS:  # 🅐-🅩, 🅰-🆉
        table.update({first + i: chr(ord("a") + i) for i in range(26)})
    return table


#: a small capital letter, by its Unicode name ("LATIN LETTER SMALL CAPITAL R")
_SMALL_CAPITAL = re.compile(r"LATIN LETTER SMALL CAPITAL ([A-Z])")
#: the format characters beyond the basic plane that text carries: shorthand format
#: controls, and tag characters (also used to hide text in plain sight)
_ASTRAL_FORMATS = ((0x1BCA0, 0x1BCA3), (0xE0001, 0xE0001), (0xE0020, 0xE007F))
_BOXED_LETTERS = (0x1F150, 0x1F170)
_ENCLOSED_SUPPLEMENT = (0x1F100, 0x1F200)  # where the circled sans-serif zeros are
_REWRITES = _rewrites()
# quick tests: a class of the basic plane is tested by a bitmap, one beyond it range
# by range, so that one is kept short (a few ranges)
_HAS_REWRITE = re.compile(f"[{_char_class(sorted(c for c in _REWRITES if c < 0x10000))}]")
_HAS_ASTRAL_REWRITE = re.compile(  # with the regional-indicator letters (above)
    f"[{_char_class(sorted(c for c in _REWRITES if c >= 0x10000))}\U0001F1E6-\U0001F1FF]")


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


def _folded_capitals(table: dict[int, str]) -> dict[int, str]:
    """The table with the lower case of each capital look-alike it maps, where that
    is not mapped already: case folding has made a Cyrillic capital ``\u0422`` (in
    ``\u0422\u0415LEGRAM``) a ``\u0442``, which looks Latin only as a capital.
    The micro sign's ``μ`` is left out, so that ``μg`` is not ``mg``."""
    folded = dict(table)
    for cp, target in table.items():
        lower = chr(cp).casefold()
        if (len(lower) == 1 and not lower.isascii() and ord(lower) not in table
                and lower != "\u03bc"):
            folded[ord(lower)] = target
    return folded


_TO_ASCII = _confusables_to_ascii()
#: in a word typed in Latin (see _unconfused): capital look-alikes, case folded, too
_TO_ASCII_IN_LATIN = _folded_capitals(_TO_ASCII)
_CONFUSABLE = frozenset(map(chr, _TO_ASCII_IN_LATIN))
_LOOK_LATIN = frozenset(chr(c) for c, a in _TO_ASCII.items() if a.isalpha())  # in lower case


def tokens(text: str, spellings: Spellings | None = None) -> list[str]:
    """The text's tokens after undoing case, confusables, leetspeak and spacing tricks.
    ``spellings``: how this chat writes its code words plainly, to read a drawn-out
    one by (see :class:`Spellings`).

    >>> tokens("s.u.p.e.r.c.l.o.n.e or 1t01c0py or 1 t o 1 c o p y")
    ['superclone', 'or', 'itoicopy', 'or', 'itoicopy']
    >>> tokens("iphone15 is 100% legit")
    ['iphone15', 'is', '100', 'legit']

    Symbols for letters, invisible characters inside a word, marks drawn over it,
    and boxed letters and small capitals are undone too, and digits are read as
    ASCII digits; addresses and prices are left alone:

    >>> tokens("whats@pp $uperclone what\u200bsapp w\u0336h\u0336a\u0336t\u0336s\u0336app")
    ['whatsapp', 'superclone', 'whatsapp', 'whatsapp']
    >>> tokens("sup€rclone ꜱᴜᴘᴇʀᴄʟᴏɴᴇ, 20€ off")
    ['superclone', 'superclone', '20', 'off']
    >>> tokens("\U0001F166\U0001F157\U0001F150\U0001F163\U0001F162\U0001F150\U0001F15F\U0001F15F")
    ['whatsapp']
    >>> tokens("कॉल ०८१२-३४५६-७८९०")  # Devanagari digits
    ['कॉल', '081234567890']
    >>> tokens("ann@mail.com, $20 or 20$")
    ['ann', 'mail.com', '20', 'or', '20']
    >>> tokens("wa[.]me/5551234 or bit (dot) ly/x (see above)")
    ['wa.me', '5551234', 'or', 'bit.ly', 'x', 'see', 'above']
    >>> tokens("t dot me/deals, my-shop.com, a t-shirt")
    ['t.me', 'deals', 'my-shop.com', 'a', 't', 'shirt']

    Look-alike letters are read as Latin only in a word that has Latin letters or
    digits between letters, or that they turn wholly Latin in a text mostly in Latin
    letters: a Russian word stays Russian. Words of scripts written without spaces
    are found with ICU's dictionaries:

    >>> tokens("привет, это оригинал? \u0455up\u0435r\u0441l\u043en\u0435")
    ['привет', 'это', 'оригинал', 'superclone']
    >>> tokens("これは本物ですか? LINEで連絡")
    ['これ', 'は', '本物', 'です', 'か', 'line', 'で', '連絡']
    """
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKC", text).casefold()
        if _HAS_REWRITE.search(text) or _HAS_ASTRAL_REWRITE.search(text):
            if _REGIONAL.search(text):  # before the invisible characters go
                text = _REGIONAL.sub(_regional_letters, text)
            text = text.translate(_REWRITES)  # costs more than the tests
        if _HAS_MARK.search(text) and _MARK_ON_LATIN.search(text):
            text = _MARK_ON_LATIN.sub(lambda m: m[0][0], text)
        if "€" in text:
            text = _EURO_AS_E.sub("e", text)
        if "¢" in text:
            text = _CENT_AS_C.sub("c", text)
        if _KANJI_OR_SEPARATOR.search(text):
            text = _KANJI_DIGIT_RUN.sub(_from_kanji, text)
            text = _DIGIT_SEPARATOR.sub(_as_separator, text)
        if ("'" in text or "\u2019" in text or '"' in text or "\u05f3" in text
                or "\u05f4" in text or "\u00b7" in text):  # cheaper than one search
            text = _in_word_marks(text)
    if ("(" in text or "[" in text or "{" in text or "<" in text) and (
            "." in text or "dot" in text):
        text = _DEFANGED_DOT.sub(".", text)
    if " dot " in text or " . " in text:
        text = _SPELLED_DOT.sub(".", text)
    if "@" in text:
        text = _HANDLE.sub(lambda m: "@" + m[1].replace("_", ""), text)
        text = _AT_AS_A.sub("a", text)
    if "$" in text:
        text = _DOLLAR_AS_S.sub(lambda m: "s" * len(m[0]), text)
    if "|" in text:
        text = _PIPED.sub(lambda m: _unpiped(m[0]), text)
    if _GROUPED_DIGITS.search(text):
        if _LETTER_BY_DIGIT.search(text):
            text = _LETTERED_RUN.sub(_phone_with_letters, text)
        text = _DIGIT_RUN.sub(_phone, text)
    hyphened = "-" in text and "." in text
    if text.isascii():
        found = (_ASCII_JOINED if hyphened else _ASCII_TOKEN).findall(text)
    else:
        found = (_JOINED if hyphened else _TOKEN).findall(
            text.replace("_", " ") if "_" in text else text)
    if hyphened:
        found = _unhyphened(found)
    out: list[str] = []
    run: list[str] = []  # consecutive one-character tokens: "s u p e r"
    latin_text: _LatinText | None = None  # whether the text is mostly Latin, once asked
    mixed_text: bool | None = None  # whether it has ASCII and Cyrillic letters, once asked
    for token in found:
        if (len(token) >= MIN_DISGUISE_CHARS and not token.isascii()
                and _MAY_BE_DISGUISED.search(token)):
            token = _undisguised(token)
        if not token.isascii():
            confused = not _CONFUSABLE.isdisjoint(token)
            if not confused:  # but a Cyrillic word typed with a Latin letter may be: "пo"
                if mixed_text is None:
                    mixed_text = bool(_ASCII_LETTER.search(text) and _CYRILLIC_LETTER.search(text))
                confused = mixed_text and bool(
                    _ASCII_LETTER.search(token) and _CYRILLIC_LETTER.search(token))
            if confused:
                if latin_text is None:
                    latin_text = _LatinText(found)
                token = _unconfused(token, latin_text)
            if _UNSPACED.search(token):
                if run:
                    _flush(run, out)
                out.extend(_words(token))
                continue
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
            token = _unleet(token)
        out.append(token)
    if run:
        _flush(run, out)
    if not _NUMBER_WORD_LANGUAGES.keys().isdisjoint(out):
        out = _spoken_digits(out)
    return list(map(_read, out)) if spellings is None else spellings.read(out)


def _unhyphened(found: list[str]) -> list[str]:
    """Tokens found with their hyphens, parted at them but for a domain's: one with
    a dot and two or more characters after its last dot.

    >>> _unhyphened(["www.fake-shop.com", "t-shirt", "2026-12-01", "x-y.z"])
    ['www.fake-shop.com', 't', 'shirt', '2026', '12', '01', 'x', 'y.z']
    """
    out: list[str] = []
    for token in found:
        if "-" not in token or ("." in token and len(token.rsplit(".", 1)[1]) >= 2):
            out.append(token)
        else:
            out.extend(token.split("-"))
    return out


def _in_word_marks(text: str) -> str:
    """Punctuation that a language writes inside a word, kept in it: an apostrophe
    between Cyrillic letters (Ukrainian, Belarusian) and Hebrew's geresh as the
    modifier letter apostrophe, Hebrew's gershayim as the modifier letter double
    prime (both letters, so the word is one token however it was typed), and
    Catalan's middle dot between two ``l`` dropped, as it is often typed.

    >>> tokens("п'ять п\u2019ять пʼять, ג'ינס צה\u05f4ל, col·lecció; don't")
    ['пʼять', 'пʼять', 'пʼять', 'גʼינס', 'צהʺל', 'collecció', 'don', 't']
    """
    if "'" in text or "\u2019" in text:
        text = _CYRILLIC_APOSTROPHE.sub("\u02bc", text)
    if "'" in text or "\u2019" in text or "\u05f3" in text:
        text = _HEBREW_GERESH.sub("\u02bc", text)
    if '"' in text or "\u05f4" in text:
        text = _HEBREW_GERSHAYIM.sub("\u02ba", text)
    return _CATALAN_DOT.sub("", text) if "\u00b7" in text else text


@functools.lru_cache(maxsize=1 << 12)
def _unpiped(run: str) -> str:
    """Letters with ``|`` among them, read: each ``|`` as ``l`` or ``i``, whichever
    makes the word English uses most; where no reading is an English word, as ``l``,
    unless it sets apart words English uses or single letters (``red|blue``,
    ``s|m|l``), as a separator does.

    >>> tokens("te|egram he||o |phone superc|one, red|blue s|m|l |size|color")
    ['telegram', 'hello', 'iphone', 'superclone', 'red', 'blue', 'sml', 'size', 'color']
    >>> tokens("xs|s|m|l|xl")
    ['xs', 'sml', 'xl']
    """
    if run.count("|") <= MAX_PIPES:
        best, best_use = _likeliest(run, "|", "li")
        if best_use:
            return best
    pieces = run.split("|")
    if pieces[0] == "" and len(pieces) > 2:  # "|size|color": a leading separator
        pieces = pieces[1:]
    if all(len(p) == 1 or (len(p) > 1 and p in _VOCABULARY) for p in pieces):
        return run
    return run.replace("|", "l")


@functools.lru_cache(maxsize=1 << 12)
def _unleet(token: str) -> str:
    """A word with digits for letters, read: ``0`` as ``o``, ``3`` as ``e``, ``4`` as
    ``a``, ``5`` as ``s``, ``7`` as ``t``, and each ``1`` as ``i`` or ``l``, whichever
    makes the word English uses most (``i`` where no reading is an English word).

    >>> _unleet("sup3rcl0n3"), _unleet("c1ean"), _unleet("he11o"), _unleet("1t01c0py")
    ('superclone', 'clean', 'hello', 'itoicopy')

    A model's number is no letters: a word whose every run of digits between letters
    is one (two or more digits, not all the same, or a digit no letter is read from)
    stays as written.

    >>> _unleet("iphone15pro"), _unleet("rtx4090ti"), _unleet("s23ultra"), _unleet("g00d")
    ('iphone15pro', 'rtx4090ti', 's23ultra', 'good')
    """
    if all(_is_number(run) for run in _DIGITS_IN_WORD.findall(token)):
        return token
    if not 0 < token.count("1") <= MAX_LEET_ONES:
        return token.translate(_LEET)
    return _likeliest(token.translate(_LEET_BUT_ONES), "1", "il")[0]


def _is_number(digits: str) -> bool:
    """Whether digits between letters are a number, not letters (see :func:`_unleet`).

    >>> _is_number("15"), _is_number("2"), _is_number("11"), _is_number("0")
    (True, True, False, False)
    """
    return (len(digits) >= 2 and digits.count(digits[0]) < len(digits)) or any(
        d in "2689" for d in digits)


def _likeliest(word: str, mark: str, letters: str) -> tuple[str, float]:
    """``word`` with each ``mark`` read as one of ``letters``, the reading English uses
    most, and its use; where no reading is an English word, the first letter for each
    and 0 (a ``1`` or a ``|`` for a letter: see :func:`_unleet`, :func:`_unpiped`).

    >>> _likeliest("he11o", "1", "il")[0], _likeliest("x1x", "1", "il")
    ('hello', ('xix', 0.0))
    """
    best, best_use = word.replace(mark, letters[0]), 0.0
    for chosen in itertools.product(letters, repeat=word.count(mark)):
        read = iter(chosen)
        candidate = "".join(next(read) if c == mark else c for c in word)
        if _VOCABULARY.get(candidate, 0.0) > best_use:
            best, best_use = candidate, _VOCABULARY[candidate]
    return best, best_use


@functools.lru_cache(maxsize=1 << 13)
def _read(token: str) -> str:
    """The token, or the word it draws out (cached: a chat's words repeat). A Roman
    numeral is no drawn-out word: a title's ``Jordan XIII`` is not ``Jordan XI``.

    >>> tokens("Jordan XIII, Henry VIII, xxx, reaaal")
    ['jordan', 'xiii', 'henry', 'viii', 'xxx', 'real']
    """
    return (_undrawn(token) if _DRAWN_OUT.search(token) and not _ROMAN.fullmatch(token)
            else token)


def _undrawn(token: str) -> str:
    """A word with a letter drawn out, as the word: each run of three or more of one
    letter (of an alphabetic script) read as one or two of it, whichever makes the
    word English uses most (the word as written counts as a reading too), or one
    where no reading is an English word (a code word, a word of another language or
    script). A domain is left as it is. A word that other languages write with three
    of a letter (``signals/long_run_words.txt``) is read as such where its language
    uses it more than English uses any other reading:

    >>> tokens("maaari maaaaari schifffahrt schiffffahrt hmmmm")
    ['maaari', 'maaari', 'schifffahrt', 'schifffahrt', 'hmm']

    >>> tokens("sooo reaaal whaaatsappp pleeeease goood hmmmm superrrclone wa.meee")
    ['so', 'real', 'whatsapp', 'please', 'good', 'hmm', 'superclone', 'wa.meee']
    >>> tokens("sup333rcl0n3 \u0455uuup\u0435r m i r r r o r")  # leet, homoglyphs, spaced
    ['superclone', 'super', 'mirror']

    A code word that doubles the letter drawn out loses the double:

    >>> tokens("mirrorgrade mirrrrorgrade")
    ['mirrorgrade', 'mirorgrade']

    Other alphabets have no vocabulary here, so their drawn-out letters read as one
    (a :class:`Spellings` can tell ``ссылка`` from ``сылка``):

    >>> tokens("дааа оригииинал ωραίοοο")
    ['да', 'оригинал', 'ωραίο']
    """
    if "." in token:
        return token
    runs = list(_DRAWN_OUT.finditer(token))
    squeezed = _DRAWN_OUT.sub(r"\1", token)
    if len(runs) > MAX_DRAWN_OUT_RUNS:
        return squeezed
    best_use = _VOCABULARY.get(token, 0.0)
    best = token if best_use else squeezed
    for word in _readings(token, runs, (1, 2, 3) if squeezed in _LONG_RUN_SQUEEZED else (1, 2)):
        use = max(_VOCABULARY.get(word, 0.0), _LONG_RUN_WORDS.get(word, 0.0))
        if use > best_use:
            best, best_use = word, use
    return best


def _readings(token: str, runs: list[re.Match[str]], lengths: tuple[int, ...]) -> Iterator[str]:
    """The token with each of its ``runs`` of a letter written each of ``lengths`` times.

    >>> list(_readings("sooo", list(_DRAWN_OUT.finditer("sooo")), (1, 2)))
    ['so', 'soo']
    """
    for chosen in itertools.product(lengths, repeat=len(runs)):
        parts, at = [], 0
        for m, n in zip(runs, chosen, strict=True):
            parts += [token[at:m.start()], m[1] * n]
            at = m.end()
        yield "".join(parts) + token[at:]


def long_run_words(min_use: float = 1e-6) -> dict[str, tuple[float, list[str]]]:
    """The words of wordfreq's small lists, used at least ``min_use`` of the time,
    that are written with a letter three times in a row, with their use (in the
    language that uses them most) and languages: their readings with each such run
    as one or two of the letter are rarer in that language and in English (so
    ``hmmm`` is drawn out); no Roman numeral, and no letter repeated alone.
    ``signals/long_run_words.txt`` holds them, as :func:`long_run_file` writes them
    (a test checks). This loads every small list: it is for that file, not for a
    worker."""
    found: dict[str, tuple[float, list[str]]] = {}
    for lang in sorted(available_languages("small")):
        freq = get_frequency_dict(lang, wordlist="small")
        for word, use in freq.items():
            runs = list(_DRAWN_OUT.finditer(word))
            if (use < min_use or not runs or not word.isalpha() or len(set(word)) == 1
                    or _ROMAN.fullmatch(word) or len(runs) > MAX_DRAWN_OUT_RUNS):
                continue
            if all(max(freq.get(r, 0.0), _VOCABULARY.get(r, 0.0)) < use
                   for r in _readings(word, runs, (1, 2))):
                most, langs = found.get(word, (0.0, []))
                found[word] = (max(most, use), [*langs, lang])
    return found


def long_run_file() -> str:
    """The text of ``signals/long_run_words.txt``: a line a word, with its use and
    languages. To write it again: ``python -c "from signals.text import long_run_file;
    open('signals/long_run_words.txt', 'w').write(long_run_file())"``."""
    return "".join(f"{word} {use:.3g} {','.join(langs)}\n"
                   for word, (use, langs) in sorted(long_run_words().items()))


def _long_run_table() -> dict[str, float]:
    lines = resources.files("signals").joinpath("long_run_words.txt").read_text("utf-8")
    return {word: float(use) for word, use, _ in map(str.split, lines.splitlines())}


#: words of many languages written with a letter three times in a row (Filipino
#: ``maaari``, German ``schifffahrt``), with their use: read as written, and drawn
#: out, as them where no English reading is used more
_LONG_RUN_WORDS = _long_run_table()
_LONG_RUN_SQUEEZED = frozenset(_DRAWN_OUT.sub(r"\1", word) for word in _LONG_RUN_WORDS)


#: a letter written twice in a row: how a code word may be spelled plainly ("mirrorgrade")
_DOUBLED = re.compile(f"([{_ALPHABETIC}])\\1")
_KEEP, _LOOK_UP, _REMEMBER = 0, 1, 2  # what Spellings does with a token (_spelling)


@functools.lru_cache(maxsize=1 << 13)
def _spelling(token: str) -> tuple[str, str, int]:
    """The token's reading, its letters with every run squeezed to one, and what a
    :class:`Spellings` does with it: look up a drawn-out word no English reading
    fits, remember a plain word English does not know with a double letter, or
    nothing.

    >>> _spelling("mirrrrorgrade"), _spelling("mirrorgrade"), _spelling("gooood")
    (('mirorgrade', 'mirorgrade', 1), ('mirrorgrade', 'mirorgrade', 2), ('good', 'god', 0))
    """
    word = _read(token)
    kind = _KEEP
    if "." not in token:
        if word != token and word not in _VOCABULARY:
            kind = _LOOK_UP
        elif (word == token and _DOUBLED.search(token) and token not in _VOCABULARY
              and MIN_TERM_CHARS <= len(token) <= MAX_TERM_CHARS):
            kind = _REMEMBER
    return word, _REPEATED.sub("", token), kind


@functools.lru_cache(maxsize=1 << 10)
def _draws_out(token: str, plain: str) -> bool:
    """Whether drawn-out ``token`` reads as ``plain``: the same letters, each run of
    three or more written once or twice there, every other run as it is.

    >>> _draws_out("mirrrrorgrade", "mirrorgrade"), _draws_out("mirrrrorgrade", "miirorgrade")
    (True, False)
    """
    runs = [(c, len(list(g))) for c, g in itertools.groupby(token)]
    plain_runs = [(c, len(list(g))) for c, g in itertools.groupby(plain)]
    return len(runs) == len(plain_runs) and all(
        c == p and (m == n or (n >= 3 and m <= 2))
        for (c, n), (p, m) in zip(runs, plain_runs, strict=True))


class Spellings:
    """How one chat writes its code words plainly, to read a drawn-out one by.

    Without it, a drawn-out letter in a word English does not know is read as one
    letter, so ``mirrrrorgrade`` is ``mirorgrade``: a term apart from the
    ``mirrorgrade`` it draws out. With it, :func:`tokens` reads such a word as the
    plain spelling with the same letters this chat used last, if the word draws
    that spelling out (``mirrorgrade``; ``perrrro`` is ``perro`` once ``perro`` was
    written). It remembers the last ``capacity`` plain words English does not know
    with a double letter (each under its letters squeezed), and nothing else.

    >>> seen = Spellings(capacity=1000)
    >>> [tokens(text, seen) for text in ("mirrrrorgrade", "mirrorgrade", "mirrrrorgrade")]
    [['mirorgrade'], ['mirrorgrade'], ['mirrorgrade']]
    """

    __slots__ = ("_plain", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._plain: OrderedDict[str, str] = OrderedDict()  # letters squeezed -> spelling

    def __len__(self) -> int:
        return len(self._plain)

    def read(self, found: list[str]) -> list[str]:
        """Tokens as :func:`tokens` found them, read: drawn-out ones by this chat's
        plain spellings where one fits."""
        out = []
        plain = self._plain
        for token in found:
            word, key, kind = _spelling(token)
            if kind == _LOOK_UP:
                seen = plain.get(key)
                if seen is not None and _draws_out(token, seen):
                    word = seen
            elif kind == _REMEMBER:
                plain[key] = word
                plain.move_to_end(key)
                if len(plain) > self.capacity:
                    plain.popitem(last=False)
            out.append(word)
        return out


def _regional_letters(match: re.Match[str]) -> str:
    """A run of regional-indicator letters as flags where each pair (from the left,
    as Unicode pairs them) names a region, with a last odd one as a letter; as
    letters where some pair does not, since the writer meant a word. An invisible
    character between two letters parts them, so they show as letters, not as a
    flag.

    >>> tokens("🇼🇭🇦🇹🇸🇦🇵🇵 or 🇼 🇭 🇾, ships 🇺🇸🇬🇧")
    ['whatsapp', 'or', 'why', 'ships']
    """
    run = match[0]
    if all(_is_region(run[i:i + 2]) for i in range(0, len(run) - 1, 2)):
        return run if len(run) % 2 == 0 else run[:-1] + _regional_letter(run[-1])
    return "".join(map(_regional_letter, run))


def _regional_letter(char: str) -> str:
    return chr(ord("a") + ord(char) - _FIRST_REGIONAL)


@functools.lru_cache(maxsize=1 << 10)
def _is_region(pair: str) -> bool:
    """Whether two regional-indicator letters name a region (a flag), by its code."""
    code = "".join(chr(ord("A") + ord(c) - _FIRST_REGIONAL) for c in pair)
    return bool(langcodes.tag_is_valid("und-" + code))


#: digits that are one character, not a word, in these languages' spelling of them
#: (Chinese and Japanese kanji, Sino-Korean syllables)
_CHARACTER_DIGITS = frozenset({"ja", "ko", "zh"})
MIN_SPOKEN_WORDS = 3  # number words a run needs to be read as one number
MIN_HOMOGRAPH_USE = 1e-3  # a digit word another language uses this often is no evidence
#: digit words a language says in phone numbers that ICU's spellout does not give:
#: English "oh" for zero, Brazilian Portuguese "meia" (half a dozen) for six
_SPOKEN_DIGITS = {"en": {"oh": "0"}, "pt": {"meia": "6"}}


def _unaccented(word: str) -> str:
    """``word`` without its combining marks.

    >>> _unaccented("fünf"), _unaccented("không")
    ('funf', 'khong')
    """
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _digit_words(lang: str) -> dict[str, str]:
    """A language's words for the digits 0-9, as :func:`tokens` reads them, with the
    digit each stands for: ICU's spellout of each digit (CLDR's number rules), a
    Latin one also without its accents, as chat often types it (``tres``, ``funf``,
    ``mot``), and the words of ``_SPOKEN_DIGITS``.

    >>> _digit_words("id")["delapan"], _digit_words("de")["funf"], _digit_words("pt")["meia"]
    ('8', '5', '6')
    """
    spell = MessageFormat("{n, spellout}", lang)
    table = dict(_SPOKEN_DIGITS.get(lang, {}))
    for digit in range(10):
        word = spell.format({"n": digit})
        plain = _unaccented(word)
        for spelling in (word, plain) if plain.isascii() else (word,):
            if len(read := tokens(spelling)) == 1:
                table[read[0]] = str(digit)
    return table


def _number_tables() -> tuple[dict[str, str], ...]:
    """Each language's words for the digits 0-9 (:func:`_digit_words`), for every
    language wordfreq has but those that write a digit as one character. Languages
    ICU spells in English give no table of their own.

    >>> tables = _number_tables()
    >>> [t["dua"] for t in tables if "delapan" in t], [t["oh"] for t in tables if "five" in t]
    (['2'], ['0'])
    >>> [t["meia"] for t in tables if "dois" in t]
    ['6']
    """
    tables: dict[tuple[str, ...], dict[str, str]] = {}
    for lang in sorted(available_languages()):
        if lang in _CHARACTER_DIGITS:
            continue
        spell = MessageFormat("{n, spellout}", lang)
        words = tuple(spell.format({"n": digit}) for digit in range(10))
        tables.setdefault(words, {}).update(_digit_words(lang))
    return tuple(tables.values())


def number_homographs(min_use: float = MIN_HOMOGRAPH_USE) -> list[str]:
    """The digit words of :func:`_number_tables` that a language whose digit word
    they are not (or not for that digit) uses at least ``min_use`` of the time, by
    wordfreq's small lists with accents left out as in the tables: English ``to``
    (Danish two), French ``et`` (Danish one), Spanish ``en`` (Swedish one), ... Such
    a word is read as its digit in a run that holds enough other number words, but
    does not count towards them. ``_NUMBER_HOMOGRAPHS`` holds them (a test checks).
    This loads every small list: it is for that constant, not for a worker."""
    own = {lang: {} if lang in _CHARACTER_DIGITS else _digit_words(lang)
           for lang in available_languages("small")}
    words = {w: {t[w] for t in _NUMBER_TABLES if w in t} for w in set().union(*_NUMBER_TABLES)}
    found: set[str] = set()
    for lang, digit_words in own.items():
        used: dict[str, float] = {}
        for word, use in get_frequency_dict(lang, wordlist="small").items():
            for spelling in {word, _unaccented(word)}:
                used[spelling] = max(used.get(spelling, 0.0), use)
        found.update(w for w, digits in words.items()
                     if used.get(w, 0.0) >= min_use and digit_words.get(w) not in digits)
    return sorted(found)


def _spoken_digits(found: list[str]) -> list[str]:
    """Tokens with a phone number spelled out in words of one language, or in its
    words and digits, as one number: a run of such tokens with 7-15 digits and
    ``MIN_SPOKEN_WORDS`` or more words, not counting a word another language uses
    for something else (``_NUMBER_HOMOGRAPHS``), which is read as its digit in such
    a run. Fewer are words as they were (``one two three go``, ``1000 to 2000``:
    ``to`` is two in Danish, and English).

    >>> tokens("call five five five one two three four, or 555 one two three 4")
    ['call', '5551234', 'or', '5551234']
    >>> tokens("wa nol delapan satu dua tiga empat lima enam")  # Indonesian
    ['wa', '08123456']
    >>> tokens("zap cinco cinco cinco um dois tres quatro")  # Portuguese, accents left out
    ['zap', '5551234']
    >>> tokens("one two three go, this one or 2")
    ['one', 'two', 'three', 'go', 'this', 'one', 'or', '2']
    >>> tokens("from 1000 to 2000 to 3000 to 4000")
    ['from', '1000', 'to', '2000', 'to', '3000', 'to', '4000']
    >>> tokens("sizes 3 to 5 to 7 to 9")
    ['sizes', '3', 'to', '5', 'to', '7', 'to', '9']
    >>> tokens("nul otte et to tre fire fem")  # Danish: "et" and "to" read in the run
    ['0812345']
    """
    words = [t for t in found if t in _NUMBER_WORD_LANGUAGES]
    if len(words) < MIN_SPOKEN_WORDS:
        return found
    count = Counter(itertools.chain.from_iterable(
        _NUMBER_WORD_LANGUAGES[w] for w in words))
    for table, n in count.items():  # each language's table with enough of its words
        if n >= MIN_SPOKEN_WORDS:
            found = _joined_digits(found, _NUMBER_TABLES[table])
    return found


def _joined_digits(found: list[str], table: dict[str, str]) -> list[str]:
    out: list[str] = []
    for numeric, group in itertools.groupby(
            found, key=lambda t: t in table or (t.isascii() and t.isdigit())):
        run = list(group)
        if numeric and sum(t in table and t not in _NUMBER_HOMOGRAPHS
                           for t in run) >= MIN_SPOKEN_WORDS:
            digits = "".join(table.get(t, t) for t in run)
            if MIN_PHONE_JOIN_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
                out.append(digits)
                continue
        out.extend(run)
    return out


def _as_separator(match: re.Match[str]) -> str:
    """A dash between digits as ``-``, a bullet or middle dot as ``.`` (see
    ``_DIGIT_SEPARATOR``)."""
    return match[1] + ("-" if match[2] else ".")


def _from_kanji(match: re.Match[str]) -> str:
    """A run of 7-15 kanji digits, maybe in groups, in ASCII digits; a longer one as
    it was.

    >>> tokens("\u3007\u4e5d\u3007-\u4e00\u4e8c\u4e09\u56db-\u4e94\u516d\u4e03\u516b")
    ['09012345678']
    """
    run = match[0]
    digits = sum(c in _KANJI_DIGITS for c in run)
    return run.translate(_FROM_KANJI) if digits <= MAX_PHONE_DIGITS else run


def _phone(match: re.Match[str]) -> str:
    """A phone number written in groups, as one number; anything else as it was.
    A number counts as a phone when it has 7-15 digits in 3 or more groups (2 after
    a ``+``) and is not a date. Groups parted only by spaces or dots, as prices and
    lists are (``1.299.000``, ``100 200 300``), count only after ``+`` or ``0``
    or as ``555 123 4567``.

    >>> tokens("call 555-123-4567 or (555) 123 4567, wa +62 812 3456 7890")
    ['call', '5551234567', 'or', '5551234567', 'wa', '6281234567890']
    >>> tokens("sizes 100 200 300, restock 2026-12-01, rp 1.299.000")
    ['sizes', '100', '200', '300', 'restock', '2026', '12', '01', 'rp', '1.299.000']
    """
    phone = _as_phone(match[0])
    return match[0] if phone is None else f" {phone} "  # apart from letters beside it


def _as_phone(run: str) -> str | None:
    groups = re.findall(r"\d+", run)
    digits = sum(map(len, groups))
    plus = run.startswith("+")
    seps = set(run) - set("0123456789+")
    if (not MIN_PHONE_JOIN_DIGITS <= digits <= MAX_PHONE_DIGITS
            or len(groups) < (2 if plus else 3) or _DATE.fullmatch(run)
            or (seps <= {" ", "."} and not (plus or run.startswith("0"))
                and [len(g) for g in groups] != [3, 3, 4])):
        return None
    return "".join(groups)


def _phone_with_letters(match: re.Match[str]) -> str:
    """A phone number with letters for digits (``o`` for 0, ``l`` or ``i`` for 1),
    as one number, when it has at least ``MIN_PHONE_DIGITS`` real digits and at most
    ``MAX_LETTER_DIGITS`` letters; anything else as it was. Looked for only where two
    real digits stand either side of a separator (``2-3`` in ``o812-3456-789o``).

    >>> tokens("call O812-3456-789O or 08l2 3456 7890, lol 2 cool")
    ['call', '081234567890', 'or', '081234567890', 'lol', '2', 'cool']
    """
    run = match[0]
    letters = sum(c in "oli" for c in run)
    if letters > MAX_LETTER_DIGITS or sum(c.isdigit() for c in run) < MIN_PHONE_DIGITS:
        return run
    return _as_phone(run.translate(_LETTERS_AS_DIGITS)) or run


def _unconfused(token: str, latin_text: Callable[[], bool]) -> str:
    """Look-alike letters read as the Latin ones they imitate, where the word is
    meant as Latin: it has Latin letters or digits between letters, or they make it
    wholly Latin letters and the text it is one of is mostly Latin (``latin_text``),
    so words of Russian or Greek chat made only of look-alikes stay (Bulgarian
    ``\u0433\u043e\u0440\u0435``, up, is not ``rope``), as do a number's Cyrillic or Greek
    unit or ending (a year's ``\u0433``, a Greek ordinal's ``\u03bf``). Where a word
    was typed in Latin (most of its letters are, or one unlike any Cyrillic letter
    is), capital look-alikes count too, case folded; a word not typed in Latin whose
    Latin letters all look Cyrillic and which has a Cyrillic letter unlike any Latin
    one is read in Cyrillic (:func:`_with_latin_letters`): a Ukrainian word typed
    with a Latin ``i`` (``\u0432i\u043d``) is ``\u0432\u0456\u043d``. A domain's parts
    are read one by one.

    >>> latin, other = _LatinText(["buy", "now"]), _LatinText(["это"])
    >>> _unconfused("\u0455up\u0435r", other), _unconfused("привет", latin)
    ('super', 'привет')
    >>> _unconfused("\u0442\u0435l\u0435gr\u0430\u043c", other), _unconfused("вiн", other)
    ('telegram', 'він')
    >>> copy = "\u0441\u043e\u0440\u0443"
    >>> _unconfused(copy, latin), _unconfused(copy, other) == copy
    ('copy', True)
    >>> _unconfused("газета.ru", latin), _unconfused("wa.\u043ce", other)  # capital M, folded
    ('газета.ru', 'wa.me')
    """
    if not (_ASCII_LETTER.search(token) or _LEET_WORD.search(token)):
        return _wholly_latin(token, latin_text)
    in_latin = _typed_in_latin(token)
    table = _TO_ASCII_IN_LATIN if in_latin else _TO_ASCII
    if "." not in token:
        return token.translate(table) if in_latin else _with_latin_letters(token, table)
    parts = token.split(".")
    for i, part in enumerate(parts):
        if _ASCII_LETTER.search(part) or _LEET_WORD.search(part):
            parts[i] = part.translate(table) if in_latin else _with_latin_letters(part, table)
        elif i == len(parts) - 1 and in_latin:  # "wa.me" with a Cyrillic M and E
            parts[i] = _wholly_latin(part, lambda: True, table)
        else:  # a Cyrillic name before a Latin ending stays: "газета.ru"
            parts[i] = _wholly_latin(part, latin_text)
    return ".".join(parts)


#: Latin letters that look like Cyrillic ones, as those (a capital ``H`` as the
#: Cyrillic capital ``EN``, case folded); not ``b``, which looks like Cyrillic ``ь``
#: and, as a capital, like the capital ``VE``
_CYRILLIC_OF_LATIN = str.maketrans(
    "aceihjkmopstxy",
    "\u0430\u0441\u0435\u0456\u043d\u0458\u043a\u043c\u043e\u0440\u0455\u0442\u0445\u0443")
_CYRILLIC_LOOKING_LETTERS = frozenset(map(chr, _CYRILLIC_OF_LATIN))
_CYRILLIC_LOWER = "\u0430-\u045f"  # the Cyrillic letters of Russian, Ukrainian, ..., in lower case
_CYRILLIC_LETTER = re.compile(f"[{_CYRILLIC_LOWER}]")
#: digits between Cyrillic letters, and the letters they stand for there
_CYRILLIC_LEET_RUN = re.compile(f"(?<=[{_CYRILLIC_LOWER}])[0346]+(?=[{_CYRILLIC_LOWER}])")
_CYRILLIC_LEET = str.maketrans("0346", "\u043e\u0437\u0447\u0431")


def _with_latin_letters(word: str, table: dict[int, str]) -> str:
    """A word with ASCII letters or digits between letters, not typed in Latin (see
    :func:`_typed_in_latin`): in Cyrillic if it has a Cyrillic letter that looks like
    no Latin one and every ASCII letter looks like a Cyrillic one (a Ukrainian word
    typed with a Latin ``i``, Russian ``продам`` disguised with a Latin ``o``), with
    ``0``, ``3``, ``4`` and ``6`` between letters read as Cyrillic o, ze, che and be;
    else with its Cyrillic look-alikes read by ``table``, as Latin.

    >>> men, sell = "\u043c\u0435\u043di", "\u043f\u0440o\u0434\u0430\u043c"  # a Latin i, o
    >>> _with_latin_letters(men, _TO_ASCII), _with_latin_letters(sell, _TO_ASCII)
    ('\u043c\u0435\u043d\u0456', '\u043f\u0440\u043e\u0434\u0430\u043c')
    >>> _with_latin_letters("\u043f\u04400\u0434\u0430\u043c", _TO_ASCII)  # a zero for o
    '\u043f\u0440\u043e\u0434\u0430\u043c'
    >>> _with_latin_letters("c\u043e\u0440y", _TO_ASCII)  # each Cyrillic letter looks Latin
    'copy'
    """
    if (all(c in _CYRILLIC_LOOKING_LETTERS for c in _ASCII_LETTER.findall(word))
            and not _LOOK_LATIN.issuperset(_CYRILLIC_LETTER.findall(word))):
        word = word.translate(_CYRILLIC_OF_LATIN)
        return _CYRILLIC_LEET_RUN.sub(lambda m: m[0].translate(_CYRILLIC_LEET), word)
    return word.translate(table)


def _wholly_latin(word: str, latin_text: Callable[[], bool],
                  table: dict[int, str] = _TO_ASCII) -> str:
    """A word with no Latin letter, as the Latin letters its look-alikes make, if
    they make it wholly such and its text is mostly Latin; else as it is."""
    latin = word.translate(table)
    return latin if latin.isascii() and latin.isalpha() and latin_text() else word


class _LatinText:
    """Whether more of a text's words have an ASCII letter than have none (numbers
    aside), worked out when first asked.

    >>> _LatinText(["dm", "me", "привет"])(), _LatinText(["ok", "привет"])()
    (True, False)
    """

    __slots__ = ("_answer", "_words")

    def __init__(self, words: list[str]) -> None:
        self._words = words
        self._answer: bool | None = None

    def __call__(self) -> bool:
        if self._answer is None:
            latin = sum(1 for w in self._words if _ASCII_LETTER.search(w))
            self._answer = 2 * latin > sum(1 for w in self._words if not w.isdigit())
        return self._answer


def _typed_in_latin(token: str) -> bool:
    """Whether most of a word's letters are ASCII, or one of them looks like no
    Cyrillic letter."""
    kinds = token.translate(_SCRIPT_OF)
    return "a" in kinds or 2 * (kinds.count("a") + kinds.count("k")) > sum(
        map(str.isalpha, token))


def _script_table() -> dict[int, str]:
    """Each character of the first 8,192 code points as its kind, for
    :func:`_undisguised`: ``k`` an ASCII letter that looks like a Cyrillic one (as a
    Cyrillic word may be typed with some), ``a`` any other ASCII letter, ``l`` a Latin
    letter beyond ASCII, ``h`` a Greek letter that looks like a Cyrillic one (``κ``,
    ``ό``), ``g`` any other Greek letter, ``c`` Cyrillic, ``d`` a digit, ``.`` a dot or
    hyphen, ``m`` a combining mark, ``o`` anything else. A character beyond them is
    left as it is, and counts as ``o`` does."""
    table = {}
    for cp in range(0x2000):
        char = chr(cp)
        kind = "o"
        if char.isascii():
            kind = ("k" if char in _CYRILLIC_LOOKING else "a" if char.isalpha()
                    else "d" if char.isdigit() else "." if char in ".-" else "o")
        elif unicodedata.category(char)[0] == "M":
            kind = "m"
        elif char.isalpha():
            name = unicodedata.name(char, "")
            kind = ("l" if name.startswith("LATIN") else "c" if name.startswith("CYRILLIC")
                    else "o" if not name.startswith("GREEK")
                    else "h" if unicodedata.normalize("NFD", char)[0] in _CYRILLIC_LOOKING_GREEK
                    else "g")
        table[cp] = kind
    return table


_CYRILLIC_LOOKING = frozenset("abcehijkmopstxy")  # or whose capitals do (B, H, K, M, T)
_CYRILLIC_LOOKING_GREEK = frozenset("αβγεζηικμνοπρτυφχ")  # or whose capitals do
_SCRIPT_OF = _script_table()
_OTHER_KIND = re.compile("[^aklghcdm.]")
_GREEK_OR_CYRILLIC_RUN = re.compile("[ghc]+")
#: quick tests: a disguise is read in a word of five or more characters (a shorter
#: one is seldom a code word), with an ASCII letter, a Latin letter beyond ASCII or
#: a Greek one (a word of Cyrillic letters only, or of another script, is none)
MIN_DISGUISE_CHARS = 5
_MAY_BE_DISGUISED = re.compile("[a-z\u00c0-\u024f\u0370-\u03ff\u1e00-\u1fff]")
MAX_FOREIGN_RUN = 2  # Greek or Cyrillic letters in a row a Latin disguise may have
MIN_ACCENT_KINDS = 5  # kinds of accent (acute, caron, tilde, ...) a disguise has


@functools.lru_cache(maxsize=1 << 14)  # a chat's words repeat; 2-3 MB when full
def _undisguised(token: str) -> str:
    """A word disguised in letters of other alphabets or in accents, as the Latin
    word it shows (read by ``decancer``); any other word as it is. A disguise:

    * mixes Greek and Cyrillic letters, with a Latin letter or a Greek one unlike
      any Cyrillic letter (``ωнαтѕαρρ``): a Russian word with a Greek stress mark
      (``бόльшая``) stays;
    * or has Greek or Cyrillic letters, two or more but fewer than its Latin ones
      and never more than ``MAX_FOREIGN_RUN`` in a row, and a Latin letter unlike
      any Cyrillic one (``supєяcloиє``): a Russian or Ukrainian word typed with a
      Latin ``a`` or ``i`` (``кaк``, ``вiн``), a unit (``500μg``) and a Russian word
      glued to a brand (``iphoneдля``) stay;
    * or has only Latin letters, half or more of them accented, with
      ``MIN_ACCENT_KINDS`` or more kinds of accent (``ŝüpérçlöñé``): a word of
      Czech, Lithuanian or Vietnamese has four at most (``příští``, ``įžiūrėti``).

    >>> _undisguised("supєяcloиє"), _undisguised("ωнαтѕαρρ"), _undisguised("ŝüpérçlöñé")
    ('superclone', 'whatsapp', 'superclone')
    >>> _undisguised("iphoneдля"), _undisguised("вiн"), _undisguised("příští")
    ('iphoneдля', 'вiн', 'příští')
    """
    kinds = token.translate(_SCRIPT_OF)
    if _OTHER_KIND.search(kinds):
        return token
    greek, cyrillic = "g" in kinds or "h" in kinds, "c" in kinds
    latin = kinds.count("a") + kinds.count("k") + kinds.count("l")
    if greek and cyrillic:
        disguised = "a" in kinds or "g" in kinds
    elif greek or cyrillic:
        runs = _GREEK_OR_CYRILLIC_RUN.findall(kinds)
        foreign = sum(map(len, runs))
        disguised = ("a" in kinds and 2 <= foreign < latin
                     and max(map(len, runs)) <= MAX_FOREIGN_RUN)
    else:
        accented = kinds.count("l")
        disguised = (2 * accented >= latin and accented >= MIN_ACCENT_KINDS
                     and len(_accents(token)) >= MIN_ACCENT_KINDS)
    if not disguised:
        return token
    cured = str(_decancer(token))
    return cured if _ASCII_JOINED.fullmatch(cured) else token


def _accents(token: str) -> set[str]:
    """The kinds of accent on a word's letters: the marks they decompose into.

    >>> sorted(map(unicodedata.name, _accents("příští")))
    ['COMBINING ACUTE ACCENT', 'COMBINING CARON']
    """
    return {c for c in unicodedata.normalize("NFD", token) if unicodedata.combining(c)}


_PHONE_DIGITS = re.compile(rf"(?<!\d)(\d{{{MIN_PHONE_JOIN_DIGITS},{MAX_PHONE_DIGITS}}})(?!\d)")


def _words(token: str) -> list[str]:
    """A run of text without spaces (Thai, Japanese, Chinese), cut into words.
    Single Chinese characters in a row are joined, as single letters are: the
    dictionary cuts a word it does not know (a brand, new slang) into them.

    >>> _words("สินค้านี้ของแท้")
    ['สินค้า', 'นี้', 'ของ', 'แท้']
    >>> _words("正品包包加微信")  # 正品 (genuine), 加微信 (add me on WeChat)
    ['正品', '包包', '加微信']

    A phone number's 7-15 digits are a word of their own: ICU parts digits from
    Chinese and Japanese characters, but not from Thai letters (so a price,
    ``ราคา100บาท``, stays one word):

    >>> _words("โทร0812345678นะ"), _words("ราคา100บาท")
    (['โทร', '0812345678', 'นะ'], ['ราคา100บาท'])
    """
    if _PHONE_DIGITS.search(token):
        return [w for part in _PHONE_DIGITS.split(token) if part for w in (
            [part] if part.isdigit() else _words(part))]
    out: list[str] = []
    joined = False  # whether out[-1] is single Chinese characters in a row
    for w in WordBreaker(token, "root"):
        if not _TOKEN.fullmatch(w):
            joined = False
            continue
        single = len(w) == 1 and _HAN.match(w) is not None
        if single and joined:
            out[-1] += w
        else:
            out.append(w)
        joined = single
    return out


#: Cyrillic letters that are words of their own, each over one word in 250 of Russian,
#: Ukrainian, Bulgarian or Macedonian by wordfreq's counts (``в``, ``и``, ``я``, ...)
_CYRILLIC_ONE_LETTER_WORDS = frozenset(
    "\u0430\u0432\u0435\u0437\u0438\u0456\u043a\u043e\u0441\u0443\u044f")
_ENGLISH_ONE_LETTER_WORDS = "ai"
MAX_LONE_LETTERS = 2  # English one-letter words a spaced-out word may have on each side


def _flush(run: list[str], out: list[str]) -> None:
    """Single letters in a row (at least three), joined as the word they spell out
    unless each is a Cyrillic one-letter word; one- or two-letter runs stay apart.

    >>> [tokens(text) for text in ("s u p e r", "и я в шоке", "л ю д и", "a b")]
    [['super'], ['и', 'я', 'в', 'шоке'], ['люди'], ['a', 'b']]
    """
    if len(run) >= 3:
        word = "".join(run)
        if _LEET_WORD.search(word):
            out.append(_unleet(word))
        elif _CYRILLIC_ONE_LETTER_WORDS.issuperset(run):
            out.extend(run)
        else:
            out.extend(_spelled_out(word))
    else:
        out.extend(run)
    run.clear()


@functools.lru_cache(maxsize=1 << 10)
def _spelled_out(letters: str) -> tuple[str, ...]:
    """Letters spaced out, as the word they spell; or, where that is no English word
    but English's ``a`` or ``i`` before or after the others leaves one, as those
    words: the fewest lone letters that do, and of those the reading English uses
    most. So ``buy a w h a t s a p p`` is ``buy a whatsapp``.

    >>> _spelled_out("awhatsapp"), _spelled_out("telegrami"), _spelled_out("aiphone")
    (('a', 'whatsapp'), ('telegram', 'i'), ('a', 'iphone'))
    >>> _spelled_out("asap"), _spelled_out("asuperclone")  # a code word: no telling
    (('asap',), ('asuperclone',))
    """
    if _VOCABULARY.get(_read(letters)) or not letters.isascii():
        return (letters,)
    for lone in range(1, 2 * MAX_LONE_LETTERS + 1):
        best, best_use = (letters,), 0.0
        for lead in range(max(0, lone - MAX_LONE_LETTERS), min(lone, MAX_LONE_LETTERS) + 1):
            end = len(letters) - (lone - lead)
            core = letters[lead:end]
            if len(core) < MIN_TERM_CHARS or not all(
                    c in _ENGLISH_ONE_LETTER_WORDS for c in letters[:lead] + letters[end:]):
                continue
            use = _VOCABULARY.get(_read(core), 0.0)
            if use > best_use:
                best, best_use = (*letters[:lead], core, *letters[end:]), use
        if best_use:
            return best
    return (letters,)


def fingerprint(toks: list[str]) -> str | None:
    """One key for near-identical texts, or None for texts too short to tell.

    The text's tokens are joined without spaces and every run of one letter
    squeezed to one, so a copy with a word split (``whats app``) or a letter
    drawn out (``whaaatsappp``, ``pleeease``) reads as the text it copies. The
    key is the two smallest MurmurHash3 values over that string's
    ``SHINGLE_CHARS``-character shingles (a bottom-2 MinHash): two texts get the
    same key when those two shingles are the smallest in both, which is likely
    when they share most shingles and unlikely otherwise.

    >>> a = fingerprint(tokens("DM me on WhatsApp for the real deal at half price!!"))
    >>> a == fingerprint(tokens("dm me on whats app for the reaaal deal at half price 🔥"))
    True
    >>> a == fingerprint(tokens("love this color when restock please show again"))
    False
    >>> fingerprint(tokens("love it 😍")) is None
    True
    """
    if len(toks) < MIN_FINGERPRINT_TOKENS:
        return None
    text = _REPEATED.sub("", "".join(toks))
    low1 = low2 = 0xFFFFFFFF
    for i in range(max(len(text) - SHINGLE_CHARS + 1, 1)):
        h = mmh3.hash(text[i:i + SHINGLE_CHARS], 0, False)
        if h < low1:
            low1, low2 = h, low1
        elif low1 < h < low2:
            low2 = h
    return f"{low1:08x}{low2:08x}"


def terms(toks: list[str]) -> KeysView[str]:
    """The distinct tokens that can be a trend: 3 to 40 characters (2 in Chinese,
    Japanese and Korean, whose characters are syllables or morphemes); numbers only
    from 5 digits (parts of phone numbers and handles, not prices or sizes).

    >>> sorted(terms(tokens("dm me 4 superclone superclone 120 5551234")))
    ['5551234', 'superclone']
    >>> sorted(terms(tokens("本物です 카톡")))
    ['です', '本物', '카톡']

    In the order of their first use, whatever the interpreter's string hashing, so a
    window's terms, and the order their windows are judged in, are the same in every
    run (a set's order changes with ``PYTHONHASHSEED``):

    >>> list(terms(tokens("deal price deal superclone")))
    ['deal', 'price', 'superclone']
    """
    return dict.fromkeys(
        t for t in toks if (MIN_TERM_CHARS <= len(t) <= MAX_TERM_CHARS
                            or (len(t) == MIN_DENSE_TERM_CHARS and _DENSE.search(t)))
        and (len(t) >= MIN_PHONE_DIGITS or not t.isdigit())).keys()


#: built last, since a table's words are read by tokens(), as the text's are; until
#: then no text has a number word (a table's words are read one at a time)
_NUMBER_WORD_LANGUAGES: dict[str, tuple[int, ...]] = {}
_NUMBER_TABLES = _number_tables()
#: digit words other languages use for something else (number_homographs() gives them;
#: a test checks): English "to" (Danish two), French "et" (Danish one), ...
_NUMBER_HOMOGRAPHS = frozenset({
    "ba", "dos", "du", "eins", "en", "et", "hat", "het", "iki", "mot", "ni", "nic", "pat",
    "sau", "tam", "to", "tres", "tri", "u", "um", "un", "\u00e9n", "\u062f\u0648"})
#: the words that count towards a run's number words, with the tables that hold them
_NUMBER_WORD_LANGUAGES = {
    word: tuple(i for i, t in enumerate(_NUMBER_TABLES) if word in t)
    for word in set().union(*_NUMBER_TABLES) - _NUMBER_HOMOGRAPHS}
