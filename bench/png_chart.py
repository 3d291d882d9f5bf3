"""A horizontal bar chart on a log scale, written as a PNG with the standard library
only (zlib and struct): matplotlib is not a dependency, and the report needs one plot.

Text uses a 3x5 pixel font of digits, capitals and a few signs, drawn at 2x.
"""

from __future__ import annotations

import math
import struct
import zlib

Colour = tuple[int, int, int]
# Each glyph is five rows of three pixels; a row is one octal digit (4 = left pixel).
_GLYPHS = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ .-%/:>()",
        "75557 26227 71747 71717 55711 74717 74757 71111 75757 75717 25755 65656 34443"  # noqa: SIM905 - a table, shorter as text
        " 65556 74647 74644 34553 55755 72227 11152 55655 44447 57755 65555 25552 65644"
        " 25563 65655 34216 72222 55557 55552 55775 55255 55222 71247 00000 00002 00700"
        " 51245 11244 02020 42124 12221 42224".split(),
        strict=True,
    )
)
BLACK: Colour = (30, 30, 30)
GREY: Colour = (200, 200, 200)
SCALE = 2


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def fill(self, x0: int, y0: int, x1: int, y1: int, colour: Colour) -> None:
        x0, x1 = max(0, x0), min(self.width, x1)
        for y in range(max(0, y0), min(self.height, y1)):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + 3 * (x1 - x0)] = bytes(colour) * (x1 - x0)

    def text(self, x: int, y: int, text: str, colour: Colour = BLACK) -> int:
        """Draw `text` with its top left at (x, y); the x after it."""
        for char in text.upper():
            for row, digit in enumerate(_GLYPHS.get(char, "00000")):
                for column in range(3):
                    if int(digit) & (4 >> column):
                        px, py = x + column * SCALE, y + row * SCALE
                        self.fill(px, py, px + SCALE, py + SCALE, colour)
            x += 4 * SCALE
        return x

    def png(self) -> bytes:
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * stride : (y + 1) * stride]) for y in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def text_width(text: str) -> int:
    return len(text) * 4 * SCALE


def bar_chart(
    title: str, rows: list[tuple[str, list[tuple[float, Colour]]]], legend: list[tuple[str, Colour]]
) -> bytes:
    """One group of bars per row (label, [(value in ms, colour)]), on a log10 axis."""
    values = [value for _, bars in rows for value, _ in bars if value > 0]
    low = 10 ** math.floor(math.log10(min(values)))
    high = 10 ** math.ceil(math.log10(max(values)))
    label_width = max(text_width(label) for label, _ in rows) + 20
    plot_width, bar_height, gap = 560, 14, 12
    width = label_width + plot_width + 120
    group = max(len(bars) for _, bars in rows) * bar_height + gap
    top = 60
    height = top + len(rows) * group + 50
    canvas = Canvas(width, height)
    canvas.text(10, 10, title)
    x = 10
    for name, colour in legend:
        canvas.fill(x, 32, x + 12, 42, colour)
        x = canvas.text(x + 18, 32, name) + 16

    def position(value: float) -> int:
        share = (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
        return label_width + round(share * plot_width)

    decade = low
    while decade <= high:
        x = position(decade)
        canvas.fill(x, top - 4, x + 1, height - 40, GREY)
        canvas.text(x - text_width(_short(decade)) // 2, height - 34, _short(decade))
        decade *= 10
    canvas.text(label_width, height - 18, "MILLISECONDS (LOG SCALE)")
    for number, (label, bars) in enumerate(rows):
        y = top + number * group
        canvas.text(10, y + 2, label)
        for index, (value, colour) in enumerate(bars):
            bar_y = y + index * bar_height
            end = position(max(value, low))
            canvas.fill(label_width, bar_y, end, bar_y + bar_height - 3, colour)
            canvas.text(end + 6, bar_y + 1, _short(value))
    return canvas.png()


def _short(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g}S" if value % 1000 == 0 else f"{value / 1000:.1f}S"
    return f"{value:.3g}"
