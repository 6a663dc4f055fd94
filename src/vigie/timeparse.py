"""One time format for every time-like option: ``90``, ``1:30``, ``00:01:30.5``.

Seconds (``90``, ``2.5``), ``m:ss`` (``1:30``) or ``h:mm:ss`` (``00:01:30.5``), fractions allowed
on the last field. Used by the CLI for ``--start``/``--end``/``--every``... and by anything else
that reads a time from text, so the whole of Vigie speaks one format.
"""

from __future__ import annotations

import math
import re

__all__ = ["TIME_FORMAT_HELP", "TimeFormatError", "format_time", "parse_time"]

TIME_FORMAT_HELP = "seconds (90), m:ss (1:30) or h:mm:ss.f (00:01:30.5)"

_NUMBER = r"\d+(?:\.\d*)?|\.\d+"
_SECONDS = re.compile(rf"(?:{_NUMBER})")
_CLOCK = re.compile(r"(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d*)?)")


class TimeFormatError(ValueError):
    """A text that is not a time in the one format (the message says which forms are valid)."""


def parse_time(text: str) -> float:
    """Seconds of ``text``: ``90``, ``2.5``, ``1:30``, ``1:30.25``, ``00:01:30.5``, ``1:02:03``.

    Minutes and seconds after a colon must be below 60; the first field may be any size
    (``90:00`` is an hour and a half).

    Raises:
        TimeFormatError: ``text`` is empty, negative, or not one of those forms.
    """
    value = text.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    m = _CLOCK.fullmatch(value)
    if m is None:
        raise TimeFormatError(f"{text!r} is not a time: use {TIME_FORMAT_HELP}")
    hours, minutes, seconds = m.group(1), int(m.group(2)), float(m.group(3))
    if seconds >= 60 or (hours is not None and minutes >= 60):
        raise TimeFormatError(
            f"{text!r} is not a time: minutes and seconds after a colon are below 60"
        )
    return int(hours or 0) * 3600 + minutes * 60 + seconds


def format_time(seconds: float) -> str:
    """``seconds`` as ``h:mm:ss.f`` (``0:01:30.5``); :func:`parse_time` reads it back.

    Raises:
        ValueError: ``seconds`` is negative or not finite.
    """
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"not a time: {seconds!r}")
    micros = round(seconds * 1_000_000)  # whole microseconds: no "0:00:60" from 59.9999999
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    secs, frac = divmod(rest, 1_000_000)
    text = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{text}.{frac:06d}".rstrip("0") if frac else text
