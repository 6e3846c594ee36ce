"""Positions in agent source text: line offsets and UTF-8 byte to character columns."""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

__all__ = ["SourceText"]

# The tokenizer ends lines at \r\n, \r and \n (and nothing else: str.splitlines would
# also split at form feeds and U+2028, shifting every later line number).
_NEWLINE = re.compile(r"\r\n?|\n")


class SourceText:
    """A module's text with fast line lookups (offsets computed on first use)."""

    __slots__ = ("_ascii", "_lines", "_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None
        self._ascii: bool | None = None
        # The lines split at "\n" (for counting in them); [] when the text holds a "\r".
        self._lines: list[str] | None = None

    @property
    def line_starts(self) -> list[int]:
        """Offset of each line's first character; one extra entry for the end of text."""
        if self._starts is None:
            text = self.text
            if "\r" not in text:
                # Fast path: C-level split, then running sums of the line lengths.
                starts = [0, *accumulate(map((1).__add__, map(len, text.split("\n"))))]
                starts[-1] = len(text)
            else:
                starts = [0, *(match.end() for match in _NEWLINE.finditer(text)), len(text)]
            self._starts = starts
        return self._starts

    def line(self, lineno: int) -> str:
        """Text of 1-based line ``lineno`` without its line end ('' when out of range)."""
        starts = self.line_starts
        if not 1 <= lineno < len(starts):
            return ""
        return self.text[starts[lineno - 1] : starts[lineno]].rstrip("\r\n")

    def count_in_lines(self, sub: str, first: int, last: int) -> int | None:
        """Occurrences of ``sub`` (which holds no line end) in lines ``first``..``last``
        (1-based, inclusive).

        None when those lines are not ASCII: NFKC normalisation lets an identifier be
        spelled in other characters there, so a text count says nothing about names.
        """
        lines = self._lines
        if lines is None:
            text = self.text
            # One C-level split: every validation counts, and the table of line offsets
            # costs three times as much (it is built only for issues' positions).
            lines = self._lines = text.split("\n") if "\r" not in text else []
            self._ascii = text.isascii()
        if not lines:
            return self._count_by_offsets(sub, first, last)
        if not 1 <= first <= last <= len(lines):
            first, last = max(first, 1), min(last, len(lines))
            if first > last:
                return 0
        span = "\n".join(lines[first - 1 : last])
        return span.count(sub) if self._ascii or span.isascii() else None

    def _count_by_offsets(self, sub: str, first: int, last: int) -> int | None:
        starts = self.line_starts
        if not 1 <= first <= last < len(starts):
            first, last = max(first, 1), min(last, len(starts) - 1)
            if first > last:
                return 0
        begin, end = starts[first - 1], starts[last]
        if self._ascii:
            return self.text.count(sub, begin, end)  # no copy of the lines
        lines = self.text[begin:end]
        return lines.count(sub) if lines.isascii() else None

    def char_column(self, lineno: int, byte_offset: int) -> int:
        """1-based character column of a 0-based UTF-8 ``byte_offset`` (as ``ast`` gives)."""
        text = self.line(lineno)
        if text.isascii():
            return byte_offset + 1
        prefix = text.encode("utf-8", "surrogatepass")[:byte_offset]
        return len(prefix.decode("utf-8", "replace")) + 1

    def position_of_index(self, index: int) -> tuple[int, int]:
        """1-based (line, column) of character ``index`` in the text."""
        starts = self.line_starts
        lineno = max(1, min(bisect_right(starts, index), len(starts) - 1))
        return lineno, index - starts[lineno - 1] + 1
