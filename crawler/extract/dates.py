"""Vietnamese news date parsing → aware datetimes in Asia/Ho_Chi_Minh.

Vietnamese sites print dates day-first ("Thứ tư, 22/10/2025, 19:25 (GMT+7)",
"07/03/2026 - 08:07"), meta tags carry ISO 8601, RSS carries RFC 822 and a few
feeds print US month-first dates with AM/PM. Explicit regexes cover these in
microseconds; dateparser (which knows Vietnamese month names) is the slow last
resort. A time without an offset is local Vietnamese time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?",
    re.I,
)
# d/m/Y (or d-m-Y, d.m.Y) with an optional time before or after it.
_DMY = re.compile(r"(?<!\d)(?P<d>\d{1,2})[/.-](?P<mo>\d{1,2})[/.-](?P<y>\d{4})(?!\d)")
_TIME = re.compile(
    r"(?<![\d:])(?P<h>\d{1,2})(?::|h)(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?![\d:])\s*(?P<ampm>[AaPp]\.?[Mm]\.?|SA|CH)?"
)
_GMT = re.compile(r"(?:GMT|UTC)\s*(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?", re.I)
_VN_WORDS = re.compile(
    r"ngày\s+(?P<d>\d{1,2})\s+tháng\s+(?P<mo>\d{1,2})\s+năm\s+(?P<y>\d{4})", re.I
)
_RFC822 = re.compile(r"^[A-Za-z]{3},?\s+\d{1,2}\s+[A-Za-z]{3}\s+\d{4}")
_EPOCH = re.compile(r"^\d{10}(?:\.\d+)?$")


def _tz_from_text(text: str) -> timezone | None:
    m = _GMT.search(text)
    if not m:
        return None
    delta = timedelta(hours=int(m["h"]), minutes=int(m["m"] or 0))
    return timezone(-delta if m["sign"] == "-" else delta)


def _tz_from_iso(tz: str | None) -> timezone | None:
    if not tz:
        return None
    if tz.upper() == "Z":
        return UTC
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))


def _finish(dt: datetime, tz: timezone | ZoneInfo | None) -> datetime | None:
    """Attach the zone (Vietnam when unknown) and convert to Vietnamese time."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz or VN_TZ)
    if not 1990 <= dt.year <= 2100:
        return None
    return dt.astimezone(VN_TZ)


def _build(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime | None:
    try:
        return datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None


def _clock(text: str) -> tuple[int, int, int, str | None] | None:
    m = _TIME.search(text)
    if not m:
        return None
    h, mi = int(m["h"]), int(m["mi"])
    ampm = (m["ampm"] or "").replace(".", "").upper() or None
    if ampm in ("PM", "CH") and h < 12:
        h += 12
    elif ampm in ("AM", "SA") and h == 12:
        h = 0
    if h > 23 or mi > 59:
        return None
    return h, mi, int(m["s"] or 0), ampm


def _explicit(text: str, month_first: bool) -> datetime | None:
    m = _ISO.search(text)
    if m and m.start() < 40:
        base = _build(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0))
        if base:
            return _finish(base, _tz_from_iso(m["tz"]) or _tz_from_text(text))
    if _RFC822.match(text):
        try:
            return _finish(parsedate_to_datetime(text), None)
        except (TypeError, ValueError, IndexError):
            pass
    m = _DMY.search(text) or _VN_WORDS.search(text)
    if m:
        a, b, y = int(m["d"]), int(m["mo"]), int(m["y"])
        rest = text[: m.start()] + " " + text[m.end() :]
        clock = _clock(rest)
        # US feeds: "3/7/2026 8:07:00 AM" is month-first; so is an explicit request.
        if month_first or (clock and clock[3] in ("AM", "PM") and not _VN_HINT.search(text)):
            a, b = b, a
        if b > 12 >= a:
            a, b = b, a
        h, mi, s = clock[:3] if clock else (0, 0, 0)
        base = _build(y, b, a, h, mi, s)
        if base:
            return _finish(base, _tz_from_text(text))
    if _EPOCH.match(text):
        return _finish(datetime.fromtimestamp(float(text), UTC), None)
    return None


_VN_HINT = re.compile(r"thứ|ngày|tháng|chủ nhật|GMT\s*\+\s*7", re.I)


def parse_vn_datetime(
    text: str | None, formats: Iterable[str] = (), month_first: bool = False, use_dateparser: bool = True
) -> datetime | None:
    """Parse one date string as printed by Vietnamese news sites; None when it is not a date.

    ``formats`` (strptime patterns from a site's YAML) are tried first; ``month_first``
    reads an ambiguous ``a/b/yyyy`` as month/day (some RSS feeds).
    """
    if not text:
        return None
    text = " ".join(str(text).split())
    if not text or len(text) > 200:
        return None
    for fmt in formats:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return _finish(parsed, _tz_from_text(text))
    found = _explicit(text, month_first)
    if found is not None or not use_dateparser:
        return found
    return _dateparser(text)


def _dateparser(text: str) -> datetime | None:
    import dateparser  # slow import; only reached for unusual wording

    settings = {
        "TIMEZONE": "Asia/Ho_Chi_Minh",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "DATE_ORDER": "DMY",
        "PREFER_DAY_OF_MONTH": "first",
        # "hôm qua", "2 giờ trước" depend on when the page was read: not a publication date.
        "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
    }
    try:
        dt = dateparser.parse(text, languages=["vi", "en"], settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input
        return None
    return _finish(dt, None) if dt else None
