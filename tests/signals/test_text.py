"""Comment text normalisation and fingerprints: the tricks evaders use, undone."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from icu4py.messageformat import MessageFormat
from wordfreq import available_languages, get_frequency_dict

from signals.text import _TO_ASCII, Spellings, _undisguised, fingerprint, terms, tokens
from streams.simulate import (
    _CAMPAIGN_TEXTS,
    _CODE_WORDS,
    CAMPAIGN_ENDINGS,
    WORDS,
    _bot_copy,
    _draw_out,
    _obfuscate,
)


@pytest.mark.parametrize("spelling", [
    "superclone", "SuperClone", "s u p e r c l o n e", "s.u.p.e.r.c.l.o.n.e",
    "sup3rcl0n3", "\u0455up\u0435r\u0441l\u043en\u0435",  # Cyrillic look-alikes
    "".join(chr(ord(c) + 0xFEE0) for c in "superclone"),  # full-width forms
    "$uperclone", "$up3rcl0ne",  # "$" for "s"
    "sup\u20acrclone", "sup\u20acrcl0n3",  # the euro sign for "e"
    "super\u00a2lone",  # the cent sign for "c"
    "superc|one",  # a bar for "l"
    "\ua731\u1d1c\u1d18\u1d07\u0280\u1d04\u029f\u1d0f\u0274\u1d07",  # small capitals
    "s\u1d1c\u1d18\u1d07\u0280\u1d04\u029f\u1d0f\u0274\u1d07",  # after a plain letter
    "super\u200bclone", "super\u00adclone", "super\u2060clo\ufeffne",  # invisible characters
    "".join(c + "\u0336" for c in "superclone"),  # struck through
    "s\u0332u\u0332p\u0332e\u0332r\u0332clone",  # underlined
    "".join(chr(0x1F170 + ord(c) - ord("a")) for c in "superclone"),  # negative squared
    "".join(chr(0x1F150 + ord(c) - ord("a")) for c in "superclone"),  # negative circled
    " ".join(chr(0x1F1E6 + ord(c) - ord("a")) for c in "superclone"),  # regional indicators,
    "\u200b".join(chr(0x1F1E6 + ord(c) - ord("a")) for c in "superclone"),  # kept apart
    "".join(chr(0x1F1E6 + ord(c) - ord("a")) for c in "superclone"),  # side by side: no flags
    "\u0455\u03c5\u03c1\u0454\u044fc\u2113\u03c3\u0438\u0454",  # faux Cyrillic
    "sup\u0454\u044fclo\u0438\u0454",  # Latin with Cyrillic that only roughly looks Latin
    "\u0405U\u03a1\u0395RCL\u041eN\u0395",  # Greek and Cyrillic capitals, case folded
    "SUP\u0395RCLONE",  # one Greek capital, whose lower case looks Latin no more
    "\u015d\u00fcp\u00e9r\u00e7l\u00f6\u00f1\u00e9",  # an accent on most letters
])
def test_obfuscated_spellings_become_one_term(spelling: str) -> None:
    assert tokens(f"get the {spelling} 🔥🔥 now") == ["get", "the", "superclone", "now"]


@pytest.mark.parametrize(("written", "read"), [
    ("supeeerclone", "superclone"), ("superclonnnne", "superclone"),
    ("s u p e e e r c l o n e", "superclone"), ("sup333rcl0n3", "superclone"),
    ("\u0455up\u0435\u0435\u0435r\u0441l\u043en\u0435", "superclone"),  # Cyrillic
    ("whaaatsapp", "whatsapp"), ("whatsappppp", "whatsapp"), ("teleeegram", "telegram"),
    ("goood", "good"), ("pleeeease", "please"), ("cuuuute", "cute"),
])
def test_a_word_with_a_letter_drawn_out_is_the_word(written: str, read: str) -> None:
    assert tokens(f"msg me {written} now") == ["msg", "me", read, "now"]


def test_double_letters_stay_and_drawn_out_ones_read_as_english_spells_them() -> None:
    text = "shipping all coffee too good sooo www.shoppp.com hmmmm mirrorgrade"
    assert tokens(text) == ["shipping", "all", "coffee", "too", "good", "so",
                            "www.shoppp.com", "hmm", "mirrorgrade"]


def test_the_simulators_drawn_out_code_words_are_read_as_the_word() -> None:
    rng = random.Random(5)
    for word in _CODE_WORDS:
        term = "".join(tokens(word))
        reads = Counter("".join(tokens(_obfuscate(rng, _draw_out(rng, word))))
                        for _ in range(300))
        # a code word loses a letter it doubles when that letter is drawn out
        # ("mirrrrorgrade" reads "mirorgrade"): 2 of its 11 letters
        assert reads[term] / 300 >= (0.75 if word == "mirrorgrade" else 1.0), (word, reads)


def test_a_chat_that_wrote_a_code_word_plainly_reads_its_drawn_out_spellings_as_it() -> None:
    rng = random.Random(5)
    for word in _CODE_WORDS:
        seen = Spellings(capacity=100)
        term = "".join(tokens(word, seen))
        reads = Counter("".join(tokens(_obfuscate(rng, _draw_out(rng, word)), seen))
                        for _ in range(300))
        assert reads == {term: 300}, (word, reads)


def test_spellings_read_only_words_that_draw_out_what_was_written() -> None:
    seen = Spellings(capacity=100)
    assert tokens("mirrorgrade perro coffee good", seen) == [
        "mirrorgrade", "perro", "coffee", "good"]
    assert len(seen) == 2  # English words ("coffee", "good") are not kept
    assert tokens("perrrro mirrrrorgrade mirrorgradeee mmmirorgrade kaffffa", seen) == [
        "perro", "mirrorgrade", "mirrorgrade", "mirorgrade",  # one "r" there: not it
        "kafa"]  # a word the chat has not written plainly reads as before
    assert tokens("goooood cofffeeee", seen) == ["good", "coffee"]  # English still reads first


@pytest.mark.parametrize(("written", "read"), [
    ("оригииинал", "оригинал"), ("дааааа", "да"), ("рееееплика", "реплика"),  # Cyrillic
    ("ωραίοοοο", "ωραίο"),  # Greek
    ("schööööön", "schön"), ("ñññandú", "ñandú"),  # Latin letters beyond ASCII
])
def test_letters_drawn_out_in_other_alphabets_are_read_as_one(written: str, read: str) -> None:
    assert tokens(f"{written} 🔥") == [read]


def test_runs_of_syllables_and_digits_are_not_drawn_out_letters() -> None:
    # scripts of syllables or words, and digits, are not alphabets: runs stay
    # (NFKC writes Hangul's compatibility letter "ㅋ" as the jamo U+110F)
    assert tokens("ㅋㅋㅋ ハハハハ 5555555") == ["\u110f" * 3, "ハハハハ", "5555555"]


def test_roman_numerals_are_not_drawn_out_letters() -> None:
    # a model or a sequel's number: "Jordan XIII" is another shoe than "Jordan XI"
    assert tokens("Air Jordan XIII, Final Fantasy VIII, World War III") == [
        "air", "jordan", "xiii", "final", "fantasy", "viii", "world", "war", "iii"]
    assert tokens("Henry VIII") == tokens("henry viii", Spellings(16)) == ["henry", "viii"]
    assert tokens("xiiii siiick") == ["xi", "sick"]  # not numerals: drawn out


def test_words_written_with_a_letter_three_times_are_read_as_written() -> None:
    # Filipino "may", "could"; German "shipping", "gym"; Russian "in the USSR"
    assert tokens("maaari maaaring Schifffahrt Fitnessstudio") == [
        "maaari", "maaaring", "schifffahrt", "fitnessstudio"]
    assert tokens("\u0432 \u0421\u0421\u0421\u0420") == ["\u0432", "\u0441\u0441\u0441\u0440"]
    # drawn out further, they are read as written, and English still comes first
    assert tokens("maaaaari schiffffahrt hmmm sooo") == ["maaari", "schifffahrt", "hmm", "so"]
    assert tokens("maaari", Spellings(16)) == ["maaari"]


def test_the_long_run_words_file_is_what_wordfreqs_lists_give() -> None:
    from importlib import resources

    from signals.text import long_run_file
    written = resources.files("signals").joinpath("long_run_words.txt").read_text("utf-8")
    assert written == long_run_file()  # words, uses and languages


def test_spellings_read_a_drawn_out_cyrillic_word_as_the_chat_wrote_it() -> None:
    seen = Spellings(capacity=10)
    assert tokens("сссссылка", seen) == ["сылка"]
    assert tokens("ссылка в био", seen) == ["ссылка", "в", "био"]
    assert tokens("сссссылка", seen) == ["ссылка"]


def test_spellings_keep_the_latest_within_their_capacity() -> None:
    seen = Spellings(capacity=2)
    tokens("mirrorgrade", seen)
    tokens("miirorgrade", seen)  # the same letters, spelled another way: replaces it
    assert tokens("miiirrrrorgrade", seen) == ["miirorgrade"] and len(seen) == 1
    tokens("repliccca superrrr", seen)  # not plain: nothing kept
    tokens("1to1 shopppee", seen)
    assert len(seen) == 1
    tokens("zzapp kkode", seen)  # two more plain code words: the oldest goes
    assert len(seen) == 2 and tokens("miiirrrrorgrade", seen) == ["mirorgrade"]


def test_flags_stay_emoji() -> None:
    us, gb = "\U0001F1FA\U0001F1F8", "\U0001F1EC\U0001F1E7"
    assert tokens(f"ships from {us}{gb} fast {us}") == ["ships", "from", "fast"]
    # an odd one after a flag is a letter again, as it shows
    assert tokens(f"{us}\U0001F1FC \U0001F1ED \U0001F1FE") == ["why"]
    # a row of them that are not all flags is a word: "wh" names no region
    wh, at, sa, pp = ("".join(chr(0x1F1E6 + ord(c) - ord("a")) for c in pair)
                      for pair in ("wh", "at", "sa", "pp"))
    assert tokens(f"dm {wh}{at}{sa}{pp} {at}{sa}") == ["dm", "whatsapp"]  # Austria, Saudi Arabia


def test_real_words_in_other_alphabets_or_with_accents_are_not_read_as_disguises() -> None:
    telegram = "\u03c4\u0454\u2113\u0454g\u044f\u03b1\u043c"  # Greek, Cyrillic, one Latin letter
    assert tokens(f"ωнαтѕαρρ {telegram}") == ["whatsapp", "telegram"]
    # a Ukrainian word typed with a Latin "i", a Russian one with a Greek stress mark, a
    # unit, a word glued to a brand, and words of languages that put many accents on one
    assert tokens("вiн бόльшая 500μg iphoneдля") == [
        "\u0432\u0456\u043d", "бόльшая", "500μg", "iphoneдля"]
    assert tokens("příští įžiūrėti đường üçüncü ţânţăr") == [
        "příští", "įžiūrėti", "đường", "üçüncü", "ţânţăr"]
    # nor is any word of wordfreq's lists of 42 languages
    for lang in available_languages("small"):
        changed = [w for w in get_frequency_dict(lang, wordlist="small")
                   if not w.isascii() and _undisguised(w) != w]
        assert changed == [], lang


def test_capital_look_alikes_are_read_in_a_word_typed_in_latin_only() -> None:
    # Cyrillic capitals whose lower case looks like no Latin letter (Te, Em, En)
    telegram, hello = "\u0422\u0415L\u0415GR\u0410\u041c", "\u041dELLO"
    assert tokens(f"{telegram} or {hello} at the S\u0422ORE") == [
        "telegram", "or", "hello", "at", "the", "store"]
    # a Cyrillic word typed with a Latin letter or two is read in Cyrillic
    assert tokens("вiн \u043da\u0442 \u043da") == [
        "\u0432\u0456\u043d", "\u043d\u0430\u0442", "\u043d\u0430"]


def test_a_cyrillic_word_typed_with_latin_look_alikes_is_the_word() -> None:
    sell = "\u043f\u0440\u043e\u0434\u0430\u043c"  # Russian "for sale", plainly
    for disguised in ("\u043f\u0440o\u0434\u0430\u043c", "\u041f\u0420O\u0414\u0410\u041c",
                      "\u043fp\u043e\u0434a\u043c"):
        assert tokens(f"{disguised} \u0434\u0451\u0448\u0435\u0432\u043e") == [
            sell, "\u0434\u0451\u0448\u0435\u0432\u043e"]
    # digits for letters, as Russian chat writes them: "fake", "to download"
    fake = "\u043f\u043e\u0434\u0434\u0435\u043b\u043a\u0430"
    download = "\u0441\u043a\u0430\u0447\u0430\u0442\u044c"
    typed = fake.replace("\u043e", "0") + " " + download.replace("\u0447", "4")
    assert tokens(typed) == [fake, download]
    # capitals whose Cyrillic twins look Latin only as capitals: "new", "buy"
    assert tokens("H\u041e\u0412\u042b\u0419 KY\u041f\u0418\u0422\u042c") == [
        "\u043d\u043e\u0432\u044b\u0439", "\u043a\u0443\u043f\u0438\u0442\u044c"]
    # a word whose Cyrillic letters all look Latin, typed mostly in Latin, glued to a
    # brand, or with a digit between letters stays Latin
    text = "buy c\u043e\u0440y \u0441\u043ep\u0443 iphone\u0434\u043b\u044f \u04410\u0440y"
    assert tokens(text) == ["buy", "copy", "copy", "iphone\u0434\u043b\u044f", "copy"]
    # the commonest Russian and Ukrainian words with one look-alike typed in Latin
    latin = dict(zip("\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456", "aeopcyxi", strict=True))
    for lang in ("ru", "uk"):
        words = [w for w in list(get_frequency_dict(lang, wordlist="small"))[:2000]
                 if w.isalpha() and any(c in latin for c in w) and tokens(w) == [w]]
        assert len(words) > 1000, lang
        for word in words:
            i = next(i for i, c in enumerate(word) if c in latin)
            typed = word[:i] + latin[word[i]] + word[i + 1:]
            if any(c not in latin and c.translate(_TO_ASCII) == c for c in word):
                assert tokens(typed) == [word], (lang, word)


def test_words_made_only_of_look_alikes_stay_in_their_alphabet_outside_latin_text() -> None:
    # Russian, Bulgarian and Greek words whose every letter Unicode lists as a look-alike
    # of a Latin letter or digit: "his", "myself", Burgas, "up", "your"
    assert tokens("его нет, а себе всё") == ["его", "нет", "а", "себе", "всё"]  # noqa: RUF001
    assert tokens("горе в Бургас") == ["горе", "в", "бургас"]  # noqa: RUF001
    assert tokens("γεια σου, για να") == ["γεια", "σου", "για", "να"]  # noqa: RUF001
    assert tokens("читай газета.ru") == ["читай", "газета.ru"]  # a domain, part by part
    # but a link's ending in Cyrillic capitals after a name typed in Latin is read
    assert tokens("пиши WA.\u041c\u0415/5551234") == ["пиши", "wa.me", "5551234"]
    assert tokens("в 2020г, 20х30, 1ο") == ["в", "2020г", "20х30", "1ο"]  # noqa: RUF001
    # every such word of wordfreq's lists of these languages, alone (but words typed
    # with a Latin letter, on two keyboards: those are read as Latin)
    for lang in ("ru", "uk", "bg", "mk", "el"):
        alike = [w for w in get_frequency_dict(lang, wordlist="small")
                 if not w.isascii() and w.translate(_TO_ASCII).isascii()
                 and not any(c.isascii() and c.isalpha() for c in w)]
        assert len(alike) > 200, lang
        read = [w for w in alike if any(t.isascii() and not t.isdigit() for t in tokens(w))]
        assert read == [], lang


def test_a_word_made_only_of_look_alikes_is_read_as_latin_in_latin_text() -> None:
    copy, shop = "\u0441\u043e\u0440\u0443", "\u0455\u04bb\u043e\u0440"
    assert tokens(f"buy {copy} at my {shop}") == ["buy", "copy", "at", "my", "shop"]
    assert tokens(f"see {copy}.com now") == ["see", "copy.com", "now"]
    assert tokens(f"{copy} ok") == [copy, "ok"]  # as many words of other letters: stays
    assert tokens("\u04410\u0440\u0443 now") == ["copy", "now"]  # a digit between: Latin


def test_a_bar_beside_letters_reads_as_l_or_i_but_a_separator_stays() -> None:
    assert tokens("te|egram he||o who|esa|e |phone |ink superc|one") == [
        "telegram", "hello", "wholesale", "iphone", "link", "superclone"]
    plain = "dm me on telegram for the wholesale price list"
    assert fingerprint(tokens("dm me on te|egram for the who|esa|e price |ist")) == fingerprint(
        tokens(plain)) is not None
    # between words English uses or single letters, and spaced, it parts them
    assert tokens("Nike Air|Max red|blue, S|M|L | size 10|12") == [
        "nike", "air", "max", "red", "blue", "sml", "size", "10", "12"]


def test_english_a_and_i_beside_a_spaced_out_word_stay_words_when_that_leaves_one() -> None:
    assert tokens("buy a w h a t s a p p") == ["buy", "a", "whatsapp"]
    assert tokens("on t e l e g r a m i guess") == ["on", "telegram", "i", "guess"]
    assert tokens("get a i p h o n e") == ["get", "a", "iphone"]  # the fewest lone letters
    assert tokens("a w h a a a t s a p p") == ["a", "whatsapp"]  # and drawn out
    # a word English uses is read whole, and a code word it does not know cannot be told
    assert tokens("a s a p") == ["asap"]
    assert tokens("a m a z o n") == ["amazon"]
    assert tokens("a s u p e r c l o n e") == ["asuperclone"]
    assert terms(tokens("dm me on w h a t s a p p")) == terms(tokens("i w h a t s a p p"))


def test_cyrillic_one_letter_words_in_a_row_stay_words() -> None:
    # "and I am shocked", "and in in", Ukrainian "i in in": each letter is a word
    assert tokens("\u0430 \u044f \u0432 \u0448\u043e\u043a\u0435") == [
        "\u0430", "\u044f", "\u0432", "\u0448\u043e\u043a\u0435"]
    assert tokens("\u0456 \u0432 \u0432 \u043f\u0438\u0442\u0438") == [
        "\u0456", "\u0432", "\u0432", "\u043f\u0438\u0442\u0438"]
    # a spaced-out word has other letters too, and is joined
    assert tokens("\u0442 \u0435 \u043b \u0435 \u0433 \u0440 \u0430 \u043c") == [
        "\u0442\u0435\u043b\u0435\u0433\u0440\u0430\u043c"]


def test_the_cyrillic_one_letter_words_are_those_wordfreq_counts_as_common() -> None:
    from signals.text import _CYRILLIC_ONE_LETTER_WORDS
    common = {w for lang in ("ru", "uk", "bg", "mk")
              for w, f in get_frequency_dict(lang, wordlist="small").items()
              if len(w) == 1 and "\u0400" <= w <= "\u04ff" and f > 1 / 250}
    assert common == _CYRILLIC_ONE_LETTER_WORDS


def test_a_one_between_letters_reads_as_the_letter_that_makes_a_word() -> None:
    assert tokens("c1ean he11o wh1te go1d") == ["clean", "hello", "white", "gold"]
    assert tokens("leg1t 1t01c0py") == ["legit", "itoicopy"]  # "i" where no reading is a word
    plain = "dm me for the clean clone deals today"
    assert fingerprint(tokens("dm me for the c1ean c1one dea1s today")) == fingerprint(
        tokens(plain)) is not None


def test_a_models_number_between_letters_stays_digits() -> None:
    assert tokens("iPhone15Pro RTX4090Ti Galaxy S23Ultra H2SO4") == [
        "iphone15pro", "rtx4090ti", "galaxy", "s23ultra", "h2so4"]
    # one digit, or a run of one digit, is still read as a letter, and so is every
    # run in a word with another that is no number
    assert tokens("g00d he11o sup3rcl0n3 1t01c0py") == ["good", "hello", "superclone", "itoicopy"]


def test_a_phone_number_spelled_out_in_words_is_one_number() -> None:
    assert tokens("txt me five five five one two three four") == ["txt", "me", "5551234"]
    assert tokens("555 one two three 4567 or Oh Eight One 2 3") == [
        "5551234567", "or", "oh", "eight", "one", "2", "3"]  # five digits: not a phone
    # number words in ordinary chat stay words
    assert tokens("one two three four go, I want one or two") == [
        "one", "two", "three", "four", "go", "i", "want", "one", "or", "two"]


@pytest.mark.parametrize("lang", sorted(set(available_languages()) - {"ja", "ko", "zh"}))
def test_a_phone_number_spelled_out_in_any_language_is_one_number(lang: str) -> None:
    spell = MessageFormat("{n, spellout}", lang)
    spoken = " ".join(spell.format({"n": int(d)}) for d in "0812345679")
    assert tokens(f"wa {spoken} ok") == ["wa", "0812345679", "ok"], spoken


@pytest.mark.parametrize(("written", "read"), [
    ("null eins fünf eins zwei drei vier fünf sechs", "015123456"),  # German
    ("null eins funf 1 2 drei vier funf sechs", "015123456"),  # without the umlaut, digits
    ("không chín một hai ba bốn năm sáu bảy", "091234567"),  # Vietnamese
    ("khong chin mot hai ba bon nam sau bay", "091234567"),  # typed without its marks
    ("s\u0131f\u0131r beş üç iki bir dört alt\u0131 yedi", "05321467"),  # Turkish, dotless i
    ("восемь девять один два три четыре пять шесть", "89123456"),  # Russian
    ("शून्य नौ आठ सात छह पाँच चार तीन", "09876543"),  # Hindi
    ("cero cinco 55 uno dos tres cuatro", "05551234"),  # Spanish words and digits
    ("nove meia meia um dois tres quatro", "9661234"),  # Brazilian "meia" for six
])
def test_a_phone_number_spelled_in_other_languages_and_plainer_spellings(
        written: str, read: str) -> None:
    assert tokens(f"call {written} now") == ["call", read, "now"]


@pytest.mark.parametrize(("written", "read"), [
    ("\u96fb\u8a71\u306f090-1234-5678\u3067\u3059", "09012345678"),  # after Japanese
    ("\u96fb\u8a71\u306f\u3007\u4e5d\u3007-\u4e00\u4e8c\u4e09\u56db-"
     "\u4e94\u516d\u4e03\u516b\u3067\u3059", "09012345678"),  # in kanji, in groups
    ("\u3007\u4e5d\u3007\u30fc\u4e00\u4e8c\u4e09\u56db\u30fc"
     "\u4e94\u516d\u4e03\u516b", "09012345678"),  # parted by the long-vowel mark
    ("\u52a0\u5fae\u4fe1\u4e00\u4e09\u516b\u4e00\u4e8c\u4e09\u56db"
     "\u4e94\u516d\u4e03\u516b", "13812345678"),  # Chinese
    ("\u0e42\u0e17\u0e23081-234-5678\u0e19\u0e30", "0812345678"),  # between Thai words
    ("\u0e42\u0e17\u0e230812345678\u0e19\u0e30", "0812345678"),  # not in groups
    ("\uc804\ud654010-1234-5678\ub85c", "01012345678"),  # a Korean particle on it
])
def test_a_phone_number_beside_letters_of_unspaced_scripts_or_in_kanji_is_one_number(
        written: str, read: str) -> None:
    assert read in tokens(written)
    assert not any(read in t and t != read for t in tokens(written))


def test_kanji_digits_in_ordinary_text_and_numbers_after_latin_letters_stay() -> None:
    # a year and a count in kanji: fewer than 7 digits in a row
    assert not any(t.isdigit() for t in tokens("\u4e00\u7dd2\u306b\u4e00\u4e8c\u4e09"))
    assert not any(t.isdigit() for t in tokens("\u4e8c\u3007\u4e8c\u516d\u5e74"))
    # 16 kanji digits in a row are too many for a phone number
    assert not any(t.isdigit() for t in tokens("\u4e00\u4e8c\u4e09\u56db" * 4))
    # after a Latin letter a run of digits is part of the word, as before
    assert tokens("abc555-123-4567") == ["abc555", "123", "4567"]
    # a Thai price keeps its digits (only a phone number's 7-15 are parted)
    assert tokens("\u0e23\u0e32\u0e04\u0e32100\u0e1a\u0e32\u0e17") == [
        "\u0e23\u0e32\u0e04\u0e32100\u0e1a\u0e32\u0e17"]


def test_number_words_of_other_languages_in_ordinary_chat_stay_words() -> None:
    # Danish "to" is two, "et" one; Dutch "een" is one and "a"; Vietnamese "năm" is
    # five and "year": too few words in a run, or too few digits, stay as they were
    for text in ("prices from 1000 to 2000 to 3000 to 4000",
                 "how to get to the link to buy et cetera",
                 # a word another language uses for something else does not count
                 # towards a run's number words (English "to", French "et")
                 "sizes 3 to 5 to 7 to 9", "packs of 10 to 20 to 30 to 40",
                 "choisir 1 et 2 et 3 et 4 et 5",
                 "een twee drie, ik wil een tas",
                 "năm nay không có hai ba cái"):
        assert tokens(text) == [t for w in text.replace(",", "").split() for t in tokens(w)]
    # a run in one language's words is not joined with another language's
    assert tokens("cinco cinco cinco five one two three") == [
        "cinco", "cinco", "cinco", "five", "one", "two", "three"]


def test_a_homograph_is_read_as_its_digit_inside_a_run_of_other_number_words() -> None:
    # Danish "et" (one) and "to" (two) are French "and" and English "to"
    assert tokens("ring nul otte et to tre fire fem") == ["ring", "0812345"]
    assert tokens("zero six un deux trois quatre cinq") == ["0612345"]


def test_the_number_homographs_are_what_wordfreqs_lists_give() -> None:
    from signals.text import _NUMBER_HOMOGRAPHS, number_homographs
    assert sorted(_NUMBER_HOMOGRAPHS) == number_homographs()
    assert {"to", "et"} <= _NUMBER_HOMOGRAPHS and not {"one", "two", "tre"} & _NUMBER_HOMOGRAPHS


def test_at_sign_for_a_is_undone_but_addresses_and_ids_stay() -> None:
    assert tokens("dm on whats@pp or wh@ts@pp") == ["dm", "on", "whatsapp", "or", "whatsapp"]
    assert tokens("c@sh only.") == ["cash", "only"]
    assert tokens("mail ann@shop.com, line@abc123, @realdeals") == [
        "mail", "ann", "shop.com", "line", "abc123", "realdeals"]
    assert tokens("us$ 20, $20, 20$ off") == ["us", "20", "20", "20", "off"]
    assert tokens("20\u20ac off, \u20ac20 or 5\u20acx") == ["20", "off", "20", "or", "5", "x"]
    assert tokens("99\u00a2 off, \u00a299 or 5\u00a2x") == ["99", "off", "99", "or", "5", "x"]


@pytest.mark.parametrize("written", [
    "wa.me/5551234", "wa[.]me/5551234", "wa(.)me/5551234", "WA [DOT] ME/5551234",
    "wa{dot}me/5551234", "\uff57\uff41\uff3b\uff0e\uff3d\uff4d\uff45/5551234",  # full-width
])
def test_a_defanged_link_is_one_domain(written: str) -> None:
    assert tokens(f"msg {written} now") == ["msg", "wa.me", "5551234", "now"]
    assert tokens("sizes (s) or [m], price (5.99)") == ["sizes", "s", "or", "m", "price",
                                                         "5.99"]


def test_a_link_spelled_out_or_with_hyphens_is_one_domain() -> None:
    assert tokens("mail fakeseller at gmail dot com or t dot me/deals or wa . me/5551234") == [
        "mail", "fakeseller", "at", "gmail.com", "or", "t.me", "deals", "or", "wa.me",
        "5551234"]
    assert tokens("shop at www.fake-shop.com now") == ["shop", "at", "www.fake-shop.com", "now"]
    # ordinary words stay apart
    assert tokens("polka dot dress, love it. me too, a well-known t-shirt.") == [
        "polka", "dot", "dress", "love", "it", "me", "too", "a", "well", "known", "t", "shirt"]


def test_a_campaign_spelled_with_invisible_and_drawn_over_letters_has_one_fingerprint() -> None:
    plain = "dm me on whatsapp for the real superclone deal"
    evasive = ("dm me on wh@ts\u200bapp for the real "
               + "".join(c + "\u0336" for c in "superclone") + " deal")
    assert fingerprint(tokens(evasive)) == fingerprint(tokens(plain)) is not None


def test_real_text_keeps_its_words() -> None:
    assert tokens("Größe 42? Passt gut 👍") == ["grösse", "42", "passt", "gut"]  # casefold
    assert tokens("iphone15 at 4k, wa.me/5551234") == ["iphone15", "at", "4k", "wa.me",
                                                       "5551234"]
    # vowel signs and viramas are part of a word, not breaks in it
    assert tokens("नमस्ते दोस्त, यह असली है") == ["नमस्ते", "दोस्त", "यह", "असली", "है"]
    assert tokens("Tôi muốn mua hàng chính hãng") == [
        "tôi", "muốn", "mua", "hàng", "chính", "hãng"]
    assert tokens("مرحبا، هذا أصلي") == ["مرحبا", "هذا", "أصلي"]
    # a Russian word is not read as Latin, though some of its letters look Latin
    assert tokens("Привет, это оригинал") == ["привет", "это", "оригинал"]
    # punctuation a language writes inside a word stays in it, however it is typed:
    # a Ukrainian apostrophe, Hebrew's geresh and gershayim, Catalan's middle dot
    assert tokens("здоров'я, п\u2019ять, пам\u02bcять; don't") == [
        "здоров\u02bcя", "п\u02bcять", "пам\u02bcять", "don", "t"]
    assert tokens('\u05d2\'\u05d9\u05e0\u05e1 ב-100 ש"ח, צה\u05f4ל') == [
        "\u05d2\u02bc\u05d9\u05e0\u05e1", "ב", "100", "ש\u02baח", "צה\u02baל"]  # jeans, 100 shekels
    assert tokens("una pel·lícula 'ok'") == ["una", "pellícula", "ok"]


def test_scripts_without_spaces_are_cut_into_words() -> None:
    assert tokens("これは本物ですか\uff1f") == ["これ", "は", "本物", "です", "か"]
    assert tokens("ของแท้ 100% ทักไลน์นะคะ") == ["ของ", "แท้", "100", "ทัก", "ไลน์", "นะ", "คะ"]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in "!LINE@")  # as Japanese is typed
    assert tokens(f"スーパーコピー激安{full_width}abc123") == [
        "スーパー", "コピー", "激安", "line", "abc123"]
    # a code word in Latin look-alikes, written against Japanese
    assert tokens("\u0455up\u0435r\u0441l\u043en\u0435あります") == ["superclone", "あり", "ます"]
    # single Chinese characters the dictionary left apart are joined, as letters are
    assert tokens("正品包包 加微信") == ["正品", "包包", "加微信"]


def test_terms_of_two_characters_in_chinese_japanese_korean() -> None:
    assert terms(tokens("本物です 카톡 ok")) == {"本物", "です", "카톡"}
    assert terms(tokens("ของแท้ ไลน์")) == {"ของ", "แท้", "ไลน์"}


def test_fingerprint_is_shared_by_near_copies_only() -> None:
    base = fingerprint(tokens("dm me on whatsapp for the real deal at half price"))
    assert base is not None
    for copy in ("DM me on WhatsApp for the real deal at half price!!!",
                 "dm me on whatsapp for the real deal at half price 🔥",
                 "dm  me on whatsapp, for the real deal at half price"):
        assert fingerprint(tokens(copy)) == base
    assert fingerprint(tokens("love this color when is the restock please")) != base
    assert fingerprint(tokens("so cute")) is None  # too short to tell copies apart


def test_a_copy_with_words_split_or_letters_drawn_out_has_the_texts_fingerprint() -> None:
    base = fingerprint(tokens("dm me on whatsapp for the real deal at half price"))
    for copy in ("dm me on whats app for the real deal at half price",
                 "dm me on whatsapp for the re al de al at half pr ice",
                 "dm meee on whaaatsappp for the reaaal deal at half priiice",
                 "dmme on whatsapp forthe real deal athalf price"):
        assert fingerprint(tokens(copy)) == base, copy
    # a text shorter than one shingle is one shingle: its copies still share a key
    short = fingerprint(tokens("so it is to fit"))
    assert short == fingerprint(tokens("so  it is to fiiit"))
    assert short != fingerprint(tokens("so it is to go"))


def test_most_copies_of_a_campaign_share_one_fingerprint_and_chatter_does_not() -> None:
    rng = random.Random(11)  # copies as the simulator's bots post them
    shares = []
    for text in _CAMPAIGN_TEXTS:
        copies = [_bot_copy(rng, text) + rng.choice(CAMPAIGN_ENDINGS) for _ in range(200)]
        keys = Counter(fingerprint(tokens(copy)) for copy in copies)
        shares.append(keys.most_common(1)[0][1] / 200)
    assert min(shares) >= 0.9, shares  # word 3-grams kept 0.5-0.77 together
    # ordinary comments share the simulator's 31 words, not their phrases
    chatter = {" ".join(rng.choices(WORDS, k=rng.randint(5, 9))) for _ in range(5000)}
    groups: dict[str | None, set[str]] = {}
    for text in chatter:
        groups.setdefault(fingerprint(tokens(text)), set()).add(text)
    sharing = sum(len(g) for g in groups.values() if len(g) > 1)
    assert sharing <= 0.03 * len(chatter) and max(map(len, groups.values())) <= 5


def test_terms_skip_short_tokens_and_small_numbers() -> None:
    assert terms(tokens("dm 4 price 120 now 5551234 ok")) == {"price", "now", "5551234"}


@pytest.mark.parametrize("written", [
    "555-123-4567", "(555) 123-4567", "(555) 123 4567", "555 123 4567", "555.123.4567",
    "".join(chr(ord(c) + 0xFEE0) for c in "555-123-4567"),  # full-width forms
    *("".join(chr(zero + int(c)) if c.isdigit() else c for c in "555-123-4567")
      for zero in (0x660, 0x6F0, 0x966, 0xE50)),  # Arabic-Indic, Persian, Devanagari, Thai
    "".join(c + "\ufe0f\u20e3" if c.isdigit() else c for c in "555-123-4567"),  # keycaps
    *("".join(chr(one + int(c) - 1) if c.isdigit() else c for c in "555-123-4567")
      for one in (0x2460, 0x2776, 0x2780, 0x278A, 0x24F5)),  # circled: plain (NFKC),
    # negative, sans-serif and negative sans-serif dingbats, double (no zero among them)
    "\u2464\u277a\u24f9-\u278a\u2781\u24f7-\u2779\u277a\u2785\u2786",  # mixed
    *(f"555{sep}123{sep}4567" for sep in (
        "\u2013", "\u2014", " \u2013 ", "\u2212", "\u2011",  # en, em dash, minus, no-break
        "\u2022", "\u00b7", "\u22c5")),  # bullet, middle dot, dot operator
    "555-l23-4567", "555 I23 4567", "(555) l23-4567",  # letters for digits
])
def test_a_phone_number_written_in_groups_is_one_term(written: str) -> None:
    assert terms(tokens(f"dm me {written} for the real one")) == {"5551234567", "real", "the",
                                                                   "for", "one"}


def test_circled_zeros_and_numbers_read_as_digits() -> None:
    # negative circled zero, the dingbat sans-serif zeros (beyond the basic plane),
    # and numbers: negative circled eleven, dingbat ten, double circled ten
    assert tokens("box \u24ff\U0001F10B\U0001F10C row \u24eb set \u277f and \u24fe") == [
        "box", "000", "row", "11", "set", "10", "and", "10"]


def test_dashes_and_dots_between_other_numbers_part_them_as_before() -> None:
    # as "10-20" and "2026-12-01" are, ranges and dates typed with other dashes stay apart
    assert tokens("pages 10\u201320, 1990\u20142000, on 2026\u201312\u201301, 3\u00b75") == [
        "pages", "10", "20", "1990", "2000", "on", "2026", "12", "01", "3", "5"]
    assert tokens("rock\u2014paper\u2014scissors") == ["rock", "paper", "scissors"]


def test_letters_are_read_as_digits_only_inside_a_phone_number() -> None:
    assert tokens("wa O812-3456-789O, call 0812 3456 789 lol") == [
        "wa", "081234567890", "call", "08123456789", "lol"]
    # not a phone: too few real digits, or groups a phone is not written in
    assert tokens("lol 1o1 2o2 3o3, 2oo5-o1-1o") == ["lol", "1o1", "2o2", "3o3", "2oo5", "o1",
                                                      "1o"]


def test_international_phone_numbers_and_handles_with_underscores_stay_whole() -> None:
    assert tokens("wa +62 812-3456-7890 / 0812 3456 7890") == ["wa", "6281234567890",
                                                                "081234567890"]
    assert tokens("follow @real_deals_shop or @Real_Deals_Shop") == [
        "follow", "realdealsshop", "or", "realdealsshop"]


def test_prices_sizes_and_dates_are_not_read_as_phone_numbers() -> None:
    assert tokens("sizes 38-40, 100 200 300, rp 1.299.000, restock 2026-12-01") == [
        "sizes", "38", "40", "100", "200", "300", "rp", "1.299.000", "restock", "2026", "12",
        "01"]
    assert tokens("restock 01.12.2026 at 10-12") == ["restock", "01.12.2026", "at", "10", "12"]
