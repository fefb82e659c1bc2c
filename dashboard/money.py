"""Money: an integer in the account currency's minor unit on the wire and in our code;
people see and type it as money in that currency.

What "cents" means here. CONTRACT §1.5 says every budget, bid and money field is an
"integer in cents" ("LOCK 2", field names ending in `Cents`) and, separately, that the
currency is per ad account (`currency`, an ISO code). Read literally, "cents" (hundredths)
cannot hold for a yen or won account: JPY and KRW have no minor unit, so ¥0.50 is not an
amount anyone can spend, and BHD, KWD, JOD and a few others divide into thousandths. The
ad platforms Layers converts to count budgets in the smallest unit of the account's
currency, and the contract's own example (`"dailyBudgetCents": 5000` on a USD account) is
consistent with that. So we read "cents" as **the account currency's minor unit**: 5000 is
$50.00 on a USD account, ¥5,000 on a JPY account and BHD 5.000 on a BHD account. This is an
inferred reading [I]; this module is the one place that applies it.

Exponents (how many minor units make one unit), symbols and number formats come from the
CLDR data Babel ships (`get_currency_precision`, `format_currency`, `parse_decimal`), never
from a table of our own. CLDR's digits are what people expect to see; for a handful of
currencies they differ from ISO 4217's exponent (COP, HUF, IDR, IQD, IRR, LBP, MMK, SYP and
YER are 0 in CLDR and 2 in ISO 4217). We follow CLDR; if Layers turns out to count those in
ISO minor units, `currency_exponent` is where to say so.

The locale is the project's `primaryLanguage` (numbers read "80,00 €" on a German
customer's project and "$50.00" on an English one); anything Babel does not know, or a
string that is not a language tag at all, falls back to English. Layers' text is untrusted:
nothing here raises on a bad locale or currency code, and callers escape what it returns."""

import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_name,
    get_currency_precision,
    get_currency_symbol,
    parse_decimal,
)

DEFAULT_LOCALE = "en"
EXAMPLE_MINOR = 5000  # the contract's own example amount: $50.00, ¥5,000, BHD 5.000
MAX_MINOR = 1_000_000_000  # a typo guard: $10,000,000.00, ¥1,000,000,000
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
CENTS_IN_TEXT = re.compile(r"\b(\d[\d,]*) cents\b")
# CLDR's currencySpacing, which Babel does not apply: a symbol made of letters and the
# digits get a no-break space between them ("BHD 5.000", not "BHD5.000"; "$50" unchanged).
LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def money_locale(language) -> str:
    """A project's primaryLanguage ("de", "pt-BR", "zh_Hant") as a Babel locale id;
    "en" for None, an unknown language or anything that is not a language tag."""
    return _locale(language.strip() if isinstance(language, str) else "")


@functools.lru_cache(maxsize=256)
def _locale(text: str) -> str:
    if not LANGUAGE_TAG.fullmatch(text):
        return DEFAULT_LOCALE
    try:
        return str(Locale.parse(text.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return DEFAULT_LOCALE


def browser_locale(locale: str) -> str:
    """A Babel locale id as a BCP 47 tag for the browser's Intl: "pt_BR" -> "pt-BR"."""
    return money_locale(locale).replace("_", "-")


def currency_code(currency) -> str:
    """The ISO code as Layers sent it, upper-cased; "" when there is none."""
    return str(currency or "").strip().upper()


def currency_exponent(currency) -> int:
    """Minor units per unit, as a power of ten: USD 2, JPY 0, KRW 0, BHD 3. A code CLDR
    does not know (or a garbled one) counts as 2, CLDR's default."""
    code = currency_code(currency)
    return get_currency_precision(code) if CURRENCY_CODE.fullmatch(code) else 2


def minor_to_decimal(minor: int, currency) -> Decimal:
    """5000 JPY -> Decimal("5000"); 5000 USD -> Decimal("50.00"); 5125 BHD -> Decimal("5.125")."""
    exponent = currency_exponent(currency)
    return (Decimal(int(minor)).scaleb(-exponent)).quantize(Decimal(1).scaleb(-exponent))


def stake_major(minor, currency) -> Decimal:
    """The size of a signed minor-unit amount in its currency's MAJOR unit, for sorting
    amounts by face value: 50000 JPY -> 50000, 10000 USD -> 100.00, -5125 BHD -> 5.125;
    0 for None. An unknown currency counts with CLDR's default exponent (2). Face value
    only: ¥100 and $100 both weigh 100 (no exchange rate is applied)."""
    if minor is None:
        return Decimal(0)
    return abs(minor_to_decimal(int(minor), currency_code(currency) or None))


def cents_format(cents: int | None, currency: str = "USD", *, locale: str = DEFAULT_LOCALE) -> str:
    """An amount in minor units as people read it in `locale`: 5000 USD -> "$50.00",
    5000 JPY -> "¥5,000", 5125 BHD -> "BHD 5.125", 8000 EUR in "de" -> "80,00 €"."""
    if cents is None:
        return "—"
    code = currency_code(currency)
    if not code:  # its exponent is unknown too: the count, never a guess at the unit
        return f"{int(cents):,} (currency not known)"
    return _formatted(int(cents), code, money_locale(locale))


@functools.lru_cache(maxsize=4096)
def _formatted(minor: int, code: str, locale: str) -> str:
    # Cached: a queue page formats the same few amounts on every poll (Babel takes tens of
    # microseconds a call).
    amount = minor_to_decimal(minor, code)
    try:
        text = format_currency(amount, code, locale=locale)
    except (ValueError, TypeError, ArithmeticError):
        return f"{amount} {code}"
    return LETTER_DIGIT.sub("\u00a0", text)


def change_percent(before, after) -> float | None:
    """How much an amount changes, in percent to one decimal (5000 -> 5800: 16.0); None
    when there is no size to compare with (no amount before, or zero). Needs no currency."""
    if not isinstance(before, int) or not isinstance(after, int) or not before:
        return None
    return round((after - before) * 100 / before, 1)


def money_plain(cents: int | None, currency) -> str:
    """The amount in units with the currency's own decimals and no grouping or symbol, for
    files a spreadsheet reads: 5000 JPY -> "5000", 5000 USD -> "50.00". "" for None."""
    return "" if cents is None else str(minor_to_decimal(cents, currency))


def money_example(currency="USD", *, locale: str = DEFAULT_LOCALE) -> str:
    """What a person could type in `currency`, for hints and placeholders: "50.00" for
    USD, "5,000" for JPY, "5.000" for BHD, "50,00" for EUR in "de"."""
    code = currency_code(currency) or "USD"
    return format_currency(
        minor_to_decimal(EXAMPLE_MINOR, code),
        code,
        format="#,##0.###",
        locale=money_locale(locale),
        currency_digits=True,
    )


def currency_label(currency, *, locale: str = DEFAULT_LOCALE) -> str:
    """ "Japanese yen (¥)", for a form's label; the code alone when CLDR has no name."""
    code = currency_code(currency)
    if not code:
        return "the account's currency"
    name = get_currency_name(code, count=2, locale=DEFAULT_LOCALE)
    symbol = get_currency_symbol(code, locale=money_locale(locale))
    return name if symbol in ("", code, name) else f"{name} ({symbol})"


def money_parse(text: str, currency: str = "USD", *, locale: str = DEFAULT_LOCALE) -> int:
    """What a person typed, in `currency`, as an integer of minor units: "50", "$1,250.00"
    -> 5000, 125000 (USD); "¥5,000" or "5000" -> 5000 (JPY); "5.125" -> 5125 (BHD).
    Read in `locale` ("50,5" is fifty and a half in "de"), strictly: "50.5" there is
    refused, not taken as 505. Raises ValueError with a sentence a person can read."""
    code = currency_code(currency) or "USD"
    locale = money_locale(locale)
    exponent = currency_exponent(code)
    example = money_example(code, locale=locale)
    cleaned = _without_symbols(text, code, locale)
    if not cleaned:
        raise ValueError(f"Enter an amount, for example {example}.")
    try:
        if any(char.isalpha() for char in cleaned):  # "1e5", "NaN", another currency's code
            raise ValueError
        amount = parse_decimal(cleaned, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        raise ValueError(f"Enter the amount as a number, for example {example}.") from None
    if amount <= 0:
        raise ValueError("Enter an amount greater than zero.")
    if amount != amount.quantize(Decimal(1).scaleb(-exponent)):
        raise ValueError(_decimals_sentence(code, exponent, example))
    minor = int(amount.scaleb(exponent))
    if minor > MAX_MINOR:
        most = cents_format(MAX_MINOR, code, locale=locale)
        raise ValueError(f"That amount is too large; the maximum is {most}.")
    return minor


def money_words(text: str, currency, *, locale: str = DEFAULT_LOCALE) -> str:
    """Layers' "must be at least 100 cents" as money: "must be at least ¥100"."""
    return CENTS_IN_TEXT.sub(
        lambda m: cents_format(int(m.group(1).replace(",", "")), currency, locale=locale),
        str(text or ""),
    )


def _without_symbols(text, code: str, locale: str) -> str:
    """The typed text without the currency's code and symbols, nor spaces; full-width
    characters (a Japanese keyboard's "￥５０００") read as their ordinary forms."""
    cleaned = unicodedata.normalize("NFKC", str(text or "")).strip()
    symbols = {code, get_currency_symbol(code, locale=locale)}
    symbols.add(get_currency_symbol(code, locale=DEFAULT_LOCALE))
    for symbol in sorted(symbols, key=len, reverse=True):
        symbol = unicodedata.normalize("NFKC", symbol)
        if symbol:
            cleaned = re.sub(re.escape(symbol), "", cleaned, flags=re.IGNORECASE)
    return "".join(cleaned.split())


def _decimals_sentence(code: str, exponent: int, example: str) -> str:
    name = get_currency_name(code, count=2, locale=DEFAULT_LOCALE)
    if exponent == 0:
        return f"Amounts in {name} are whole numbers, for example {example}."
    places = "one decimal place" if exponent == 1 else f"{exponent} decimal places"
    return f"Amounts in {name} have at most {places}, for example {example}."
