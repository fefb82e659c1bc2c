"""Money is integer cents on the wire and in our code; people see and type currency."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


def cents_format(cents: int | None, currency: str = "USD") -> str:
    """5000, "USD" -> "$50.00"; an unknown currency keeps its code: "12.00 CHF"."""
    if cents is None:
        return "—"
    amount = Decimal(int(cents)) / 100
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):,.2f}"
    code = (currency or "").upper()
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code}".rstrip()


def money_parse(text: str) -> int:
    """ "50", "50.5", "$1,250.00" -> cents. Raises ValueError with a sentence a person can read."""
    cleaned = (text or "").strip()
    for symbol in sorted(SYMBOLS.values(), key=len, reverse=True):
        cleaned = cleaned.replace(symbol, "")
    cleaned = cleaned.replace(",", "").replace(" ", "")
    if not cleaned:
        raise ValueError("Enter an amount, for example 50.00.")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter the amount as a number, for example 50.00.") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError("Enter an amount greater than zero.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("Use at most two decimal places.")
    cents = int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    if cents > 10_000_000_00:
        raise ValueError("That amount is too large; the maximum is 10,000,000.00.")
    return cents
