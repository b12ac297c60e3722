"""The fee table of fee-calc (deployments/fees.yaml), read with the standard
library.

The file is a small subset of YAML: comments, ``currency: USD`` and a block
mapping ``fees:`` of license type to amount. Anything else is refused with
the line it is on, as the Go fee-calc refuses a table it cannot use; the
checks and their messages are those of internal/booths/feetable.go.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["FeeTable", "FeeTableError", "load_fee_table", "parse_fee_table", "quote"]

_CURRENCY = re.compile(r"[A-Z]{3}")
_LICENSE_TYPE = re.compile(r"[a-z][a-z0-9-]{0,62}")
_ENTRY = re.compile(r"([^\s:#'\"][^:#]*?)\s*:(?:\s+(.*?))?\s*")
# A fee or a charge is at most this much (as in the Go booth).
MAX_AMOUNT = Decimal(1_000_000_000)


def quote(s: str) -> str:
    """s in double quotes, escaped, as the Go booth quotes a value (%q)."""
    return json.dumps(s, ensure_ascii=False)


class FeeTableError(Exception):
    """The fee table cannot be used; the message says where and why."""


@dataclass(frozen=True)
class FeeTable:
    """One fee per license type, in one currency (an ISO 4217 code)."""

    currency: str
    fees: dict[str, int | float]

    def types(self) -> list[str]:
        """The license types, sorted."""
        return sorted(self.fees)


def load_fee_table(path: str) -> FeeTable:
    """Read and check the table at path; FeeTableError names the file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise FeeTableError(f"bad fee table {path}: {getattr(e, 'strerror', None) or e}") from None
    try:
        return parse_fee_table(text)
    except FeeTableError as e:
        raise FeeTableError(f"bad fee table {path}: {e}") from None


def _uncomment(line: str) -> str:
    if line.lstrip().startswith("#"):
        return ""
    m = re.search(r"\s#", line)
    return (line[: m.start()] if m else line).rstrip()


def _scalar(raw: str, lineno: int) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    if raw[:1] in ("{", "[", "&", "*", "!", "|", ">", "'", '"'):
        raise FeeTableError(f"line {lineno}: {raw!r}: only plain values are supported")
    return raw


def _amount(raw: str, typ: str, lineno: int) -> int | float:
    try:
        d = Decimal(raw)
    except InvalidOperation:
        raise FeeTableError(f"line {lineno}: fees: {typ}: fee must be a number, got {raw!r}") from None
    if not d.is_finite() or d <= 0 or d > MAX_AMOUNT or d != d.quantize(Decimal("0.01")):
        raise FeeTableError(f"fees: {typ}: fee must be positive with at most 2 decimals, got {raw}")
    return int(d) if d == d.to_integral_value() else float(d)


def parse_fee_table(text: str) -> FeeTable:
    """Parse and check a fee table (see the module's docstring)."""
    currency: str | None = None
    fees: dict[str, int | float] | None = None
    in_fees = False
    indent = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if "\t" in line:
            raise FeeTableError(f"line {lineno}: tabs are not allowed in YAML indentation")
        line = _uncomment(line)
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip(" "))
        m = _ENTRY.fullmatch(line.strip())
        if not m:
            raise FeeTableError(f"line {lineno}: want 'key: value', got {line.strip()!r}")
        key, value = m.group(1), m.group(2) or ""
        if depth == 0:
            in_fees = False
            if key == "currency":
                if currency is not None:
                    raise FeeTableError(f"line {lineno}: currency is given twice")
                currency = _scalar(value, lineno)
            elif key == "fees":
                if fees is not None:
                    raise FeeTableError(f"line {lineno}: fees is given twice")
                if value:
                    raise FeeTableError(f"line {lineno}: fees must be a block mapping, one 'type: fee' a line")
                fees, in_fees, indent = {}, True, None
            else:
                raise FeeTableError(f"line {lineno}: field {key} not found: the table has currency and fees")
            continue
        if not in_fees or (indent is not None and depth != indent):
            raise FeeTableError(f"line {lineno}: unexpected indentation")
        indent = depth
        typ = _scalar(key, lineno)
        if typ in fees:
            raise FeeTableError(f"line {lineno}: fees: {typ} is given twice")
        if not value:
            raise FeeTableError(f"line {lineno}: fees: {typ}: no fee")
        fees[typ] = _amount(value, typ, lineno)
    if currency is None and fees is None:
        raise FeeTableError("file is empty")
    if not _CURRENCY.fullmatch(currency or ""):
        raise FeeTableError(f"currency must be a 3-letter upper-case code such as USD, got {quote(currency or '')}")
    if not fees:
        raise FeeTableError("fees: at least one license type is required")
    for typ in fees:
        if not _LICENSE_TYPE.fullmatch(typ):
            raise FeeTableError(f"fees: license type {quote(typ)} must be lower-case letters, digits and '-'")
    return FeeTable(currency, fees)
