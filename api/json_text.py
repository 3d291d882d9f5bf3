"""Strict JSON at the edge: what msgspec would take but the contract refuses.

msgspec decodes the body into its Struct fast and exactly, but it lets the last of two
equal keys win, keeps NUL and other control characters in strings (PostgreSQL's
`jsonb` and `text` refuse NUL: a 500 later), and walks any nesting depth. One pass over
the body's tokens (strings and punctuation; numbers and literals are left to msgspec)
refuses each of these with a 400 naming the field it is in, before msgspec runs.
"""

from __future__ import annotations

import json
import re

from api.problems import ApiError

MAX_DEPTH = 16  # the deepest body the API takes nests 2 levels; 16 leaves room
# A JSON string (escapes kept), or one punctuation character.
_PIECE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:,]', re.DOTALL)
# Control characters (C0, DEL, C1) and surrogates: no field of the API takes one.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# What `surrogateescape` makes of bytes that are not UTF-8.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def check_json_text(body: bytes, max_depth: int = MAX_DEPTH) -> None:
    """Raise a 400 `ApiError` naming the field for invalid UTF-8, a control character
    or lone surrogate in a string, a duplicate key, or nesting deeper than `max_depth`."""
    text = body.decode("utf-8", "surrogateescape")
    _Scan(max_depth).run(text)
    if _NOT_UTF8.search(text):  # outside any string
        raise ApiError(400, "body: not valid UTF-8", "body")


class _Scan:
    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.containers: list[str] = []  # "{" or "[" per open level
        self.keys: list[set[str]] = []  # keys seen, per open object
        self.path: list[str | None] = []  # the key being read, per open object
        self.expect_key = False

    def run(self, text: str) -> None:
        for match in _PIECE.finditer(text):
            piece = match.group()
            if piece[0] == '"':
                self.string(piece)
            elif piece in "[{":
                self.open(piece)
            elif piece in "]}":
                if self.containers and self.containers.pop() == "{":
                    self.keys.pop()
                    self.path.pop()
                self.expect_key = False
            else:  # "," or ":"
                self.expect_key = piece == "," and self.in_object

    @property
    def in_object(self) -> bool:
        return bool(self.containers) and self.containers[-1] == "{"

    def field(self) -> str:
        """The top-level field being read, in the client's spelling ("body" before one)."""
        return next((key for key in self.path if key is not None), "body")

    def open(self, piece: str) -> None:
        self.containers.append(piece)
        if len(self.containers) > self.max_depth:
            field = self.field()
            raise ApiError(400, f"{field}: nested deeper than {self.max_depth} levels", field)
        if piece == "{":
            self.keys.append(set())
            self.path.append(None)
            self.expect_key = True

    def string(self, piece: str) -> None:
        if _NOT_UTF8.search(piece):
            field = self.field()
            raise ApiError(400, f"{field}: not valid UTF-8", field)
        try:
            value = json.loads(piece, strict=False)  # raw control characters too
        except ValueError:
            return  # a bad escape: msgspec names it
        if self.expect_key:
            self.key(value)
        forbidden = _FORBIDDEN.search(value)
        if forbidden:
            field = self.field()
            code = f"U+{ord(forbidden.group()):04X}"
            raise ApiError(400, f"{field}: control character or surrogate {code} refused", field)

    def key(self, key: str) -> None:
        self.expect_key = False
        if key in self.keys[-1]:
            field = self.field() if len(self.path) > 1 else key
            raise ApiError(400, f"{field}: duplicate key {key!r}", field)
        self.keys[-1].add(key)
        self.path[-1] = key
