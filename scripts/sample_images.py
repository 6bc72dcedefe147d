"""Draw and encode the sample images with integer arithmetic only, so every byte is the same
on every CPU and with every version of numpy, pillow, zlib or libjpeg.

Why not pillow: its drawing (ellipse and polygon edges), its BOX resize and its encoders
(zlib or zlib-ng behind PNG, libjpeg or libjpeg-turbo behind JPEG) may give other bytes in
another release or build, and ``sample_data/`` must be byte-identical wherever it is made.
Everything here is integer numpy (no BLAS, no floating point) or plain Python:

- :class:`Canvas` fills rectangles, discs and triangles (exact integer inside tests);
- :func:`encode_png` writes a PNG whose deflate stream is made here (fixed Huffman codes,
  runs of a repeated byte as distance-1 matches), not by zlib;
- :func:`encode_jpeg` writes a baseline JFIF (4:4:4, integer DCT, our own Huffman tables);
- :func:`box_thumbnail` averages an image down to 8x8 exactly (integer sums).

Pillow reads all of these back (``tests/test_sample_data.py`` checks it).
"""

from __future__ import annotations

import re
import struct
import zlib

import numpy as np

Colour = tuple[int, int, int]


class Canvas:
    """An RGB image as a ``(height, width, 3)`` uint8 array, drawn with integer tests."""

    def __init__(self, size: tuple[int, int], fill: Colour) -> None:
        width, height = size
        self.pixels = np.empty((height, width, 3), np.uint8)
        self.pixels[:] = fill
        self._ys, self._xs = np.ogrid[0:height, 0:width]

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]

    def rectangle(
        self, box: tuple[int, int, int, int], fill: Colour, outline: Colour | None = None
    ) -> None:
        """Fill the pixels from (x0, y0) to (x1, y1), both ends included."""
        x0, y0, x1, y1 = box
        self.pixels[max(y0, 0) : y1 + 1, max(x0, 0) : x1 + 1] = fill
        if outline is not None:
            region = self.pixels[max(y0, 0) : y1 + 1, max(x0, 0) : x1 + 1]
            region[[0, -1], :] = outline
            region[:, [0, -1]] = outline

    def disc(self, centre: tuple[int, int], radius: int, fill: Colour) -> None:
        """Fill every pixel whose distance to ``centre`` is at most ``radius``."""
        cx, cy = centre
        inside = (self._xs - cx) ** 2 + (self._ys - cy) ** 2 <= radius * radius
        self.pixels[inside] = fill

    def triangle(self, points: list[tuple[float, float]], fill: Colour) -> None:
        """Fill the pixels whose centres lie in the triangle (corners on half pixels at most)."""
        # Doubled coordinates keep half pixels integral; a pixel's centre is (2x + 1, 2y + 1).
        (ax, ay), (bx, by), (cx, cy) = [(round(2 * x), round(2 * y)) for x, y in points]
        px, py = 2 * self._xs + 1, 2 * self._ys + 1

        def edge(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
            return (x1 - x0) * (py - y0) - (y1 - y0) * (px - x0)

        e0, e1, e2 = edge(ax, ay, bx, by), edge(bx, by, cx, cy), edge(cx, cy, ax, ay)
        inside = ((e0 >= 0) & (e1 >= 0) & (e2 >= 0)) | ((e0 <= 0) & (e1 <= 0) & (e2 <= 0))
        self.pixels[inside] = fill

    def brightened(self, amount: int) -> Canvas:
        """A copy with ``amount`` added to every channel, capped at 255."""
        copy = Canvas(self.size, (0, 0, 0))
        copy.pixels[:] = np.minimum(self.pixels.astype(np.int16) + amount, 255)
        return copy


def grey(pixels: np.ndarray) -> np.ndarray:
    """Luma (ITU-R 601-2) of an RGB array, rounded to integers."""
    r, g, b = (pixels[..., i].astype(np.int64) for i in range(3))
    return (r * 299 + g * 587 + b * 114 + 500) // 1000


def _box_weights(length: int, cells: int) -> np.ndarray:
    """``(cells, length)`` integer weights: how much of each pixel falls in each cell,
    in units of 1/cells of a pixel (cell ``i`` spans ``[i*length, (i+1)*length)``)."""
    starts = np.arange(length, dtype=np.int64)[None, :] * cells
    lows = np.arange(cells, dtype=np.int64)[:, None] * length
    overlap = np.minimum(starts + cells, lows + length) - np.maximum(starts, lows)
    return np.maximum(overlap, 0)


def box_thumbnail(channel: np.ndarray, cells: int = 8) -> list[list[tuple[int, int]]]:
    """The ``cells x cells`` area averages of a 2-d integer array, exactly: each cell as
    ``(sum, divisor)``; the average is ``sum / divisor``."""
    height, width = channel.shape
    sums = _box_weights(height, cells) @ channel.astype(np.int64) @ _box_weights(width, cells).T
    return [[(int(value), width * height) for value in row] for row in sums]


# --- PNG -------------------------------------------------------------------------------------

_LENGTH_BASES = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59]
_LENGTH_BASES += [67, 83, 99, 115, 131, 163, 195, 227, 258]
_LENGTH_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
#: A byte repeated four times or more becomes one literal and a distance-1 match.
_RUN = re.compile(rb"(.)\1{3,}", re.DOTALL)


class _BitWriter:
    """Bits packed least significant first, as deflate wants."""

    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._count = 0

    def bits(self, value: int, count: int) -> None:
        self._acc |= value << self._count
        self._count += count
        while self._count >= 8:
            self.out.append(self._acc & 0xFF)
            self._acc >>= 8
            self._count -= 8

    def code(self, code: int, length: int) -> None:
        """A Huffman code, which deflate stores most significant bit first."""
        self.bits(int(format(code, f"0{length}b")[::-1], 2), length)

    def finish(self) -> bytes:
        if self._count:
            self.out.append(self._acc & 0xFF)
        return bytes(self.out)


def _literal(writer: _BitWriter, symbol: int) -> None:
    if symbol < 144:
        writer.code(0x30 + symbol, 8)
    elif symbol < 256:
        writer.code(0x190 + symbol - 144, 9)
    elif symbol < 280:
        writer.code(symbol - 256, 7)
    else:
        writer.code(0xC0 + symbol - 280, 8)


def _repeat(writer: _BitWriter, length: int) -> None:
    """Copies of the previous byte, as matches at distance 1 of at most 258 bytes."""
    while length:
        step = min(length, 258)
        if 0 < length - step < 3:
            step = length - 3  # leave a last match of 3, the shortest there is
        index = max(i for i, base in enumerate(_LENGTH_BASES) if base <= step)
        _literal(writer, 257 + index)
        writer.bits(step - _LENGTH_BASES[index], _LENGTH_EXTRA[index])
        writer.code(0, 5)  # distance code 0: distance 1
        length -= step


def deflate_fixed(data: bytes) -> bytes:
    """A zlib stream of ``data`` made here (one fixed-Huffman block), so no zlib version
    changes its bytes; any inflater reads it."""
    writer = _BitWriter()
    writer.bits(1, 1)  # the final block
    writer.bits(1, 2)  # fixed Huffman codes
    position = 0
    for run in _RUN.finditer(data):
        for byte in data[position : run.start() + 1]:
            _literal(writer, byte)
        _repeat(writer, run.end() - run.start() - 1)
        position = run.end()
    for byte in data[position:]:
        _literal(writer, byte)
    _literal(writer, 256)  # end of block
    return b"\x78\x01" + writer.finish() + struct.pack(">I", zlib.adler32(data))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode_png(pixels: np.ndarray) -> bytes:
    """An 8-bit RGB PNG; every row uses the Sub filter, so flat colour becomes runs of 0."""
    height, width, _ = pixels.shape
    rows = pixels.reshape(height, width * 3).astype(np.int16)
    filtered = rows.copy()
    filtered[:, 3:] = (rows[:, 3:] - rows[:, :-3]) % 256
    raw = np.concatenate([np.ones((height, 1), np.int16), filtered], axis=1).astype(np.uint8)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", deflate_fixed(raw.tobytes()))
        + _chunk(b"IEND", b"")
    )


# --- JPEG ------------------------------------------------------------------------------------

_LUMA_TABLE = [
    [16, 11, 10, 16, 24, 40, 51, 61],
    [12, 12, 14, 19, 26, 58, 60, 55],
    [14, 13, 16, 24, 40, 57, 69, 56],
    [14, 17, 22, 29, 51, 87, 80, 62],
    [18, 22, 37, 56, 68, 109, 103, 77],
    [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101],
    [72, 92, 95, 98, 112, 100, 103, 99],
]
_CHROMA_TABLE = [[17, 18, 24, 47] + [99] * 4, [18, 21, 26, 66] + [99] * 4]
_CHROMA_TABLE += [[24, 26, 56] + [99] * 5, [47, 66] + [99] * 6] + [[99] * 8] * 4
#: 8192 * cos(k * pi / 16) for k = 0..8, rounded (fixed here, not left to a libm).
_COS = [8192, 8035, 7568, 6811, 5793, 4551, 3135, 1598, 0]
_ZIGZAG = sorted(
    ((u, v) for u in range(8) for v in range(8)),
    key=lambda uv: (uv[0] + uv[1], uv[0] if (uv[0] + uv[1]) % 2 else uv[1]),
)
#: Our Huffman tables: every DC category a 4-bit code, every AC symbol an 8-bit one.
_DC_SYMBOLS = list(range(12))
_AC_SYMBOLS = [0x00, 0xF0] + [(run << 4) | size for run in range(16) for size in range(1, 11)]


def _cos(m: int) -> int:
    """8192 * cos(m * pi / 16) for any integer m."""
    m %= 32
    if m > 16:
        m = 32 - m
    return _COS[m] if m <= 8 else -_COS[16 - m]


def _dct_matrix() -> np.ndarray:
    matrix = np.array([[_cos((2 * x + 1) * u) for x in range(8)] for u in range(8)], np.int64)
    matrix[0, :] = _COS[4]  # c(0) = 1/sqrt(2)
    return matrix


def _scaled(table: list[list[int]], quality: int) -> np.ndarray:
    scale = 200 - 2 * quality if quality >= 50 else 5000 // quality
    return np.clip((np.array(table, np.int64) * scale + 50) // 100, 1, 255)


def _quantised_blocks(plane: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``(rows, cols, 8, 8)`` quantised DCT coefficients of an integer plane (0..255)."""
    height, width = plane.shape
    padded = np.pad(plane, ((0, -height % 8), (0, -width % 8)), mode="edge") - 128
    blocks = padded.reshape(padded.shape[0] // 8, 8, padded.shape[1] // 8, 8).swapaxes(1, 2)
    matrix = _dct_matrix()
    coefficients = matrix @ blocks @ matrix.T  # integer matmul: exact, never BLAS
    divisor = 4 * 8192 * 8192 * table
    magnitude = (2 * np.abs(coefficients) + divisor) // (2 * divisor)
    return np.sign(coefficients) * magnitude


def _huffman_segment(table_class: int, table_id: int, length: int, symbols: list[int]) -> bytes:
    counts = [0] * 16
    counts[length - 1] = len(symbols)
    return bytes([table_class << 4 | table_id, *counts, *symbols])


class _JpegBits:
    """Entropy-coded bits, most significant first, with 0xFF bytes stuffed."""

    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._count = 0

    def bits(self, value: int, count: int) -> None:
        self._acc = (self._acc << count) | (value & ((1 << count) - 1))
        self._count += count
        while self._count >= 8:
            self._count -= 8
            byte = (self._acc >> self._count) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)
        self._acc &= (1 << self._count) - 1

    def finish(self) -> bytes:
        if self._count:
            self.bits((1 << (8 - self._count)) - 1, 8 - self._count)
        return bytes(self.out)


def _magnitude(value: int) -> tuple[int, int]:
    """JPEG's (size, bits) for a coefficient value."""
    size = abs(value).bit_length()
    return size, value if value >= 0 else value + (1 << size) - 1


def encode_jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    """A baseline JFIF of an RGB array: 4:4:4, integer colour transform and DCT.

    ``quality`` is at most 92: above it a quantiser of 1 lets an AC coefficient need 11
    bits, more than baseline JPEG's Huffman symbols hold.
    """
    if not 1 <= quality <= 92:
        raise ValueError("quality must be from 1 to 92")
    height, width, _ = pixels.shape
    r, g, b = (pixels[..., i].astype(np.int64) for i in range(3))
    half = 1 << 15
    planes = [
        (19595 * r + 38470 * g + 7471 * b + half) >> 16,
        ((-11059 * r - 21709 * g + 32768 * b + half) >> 16) + 128,
        ((32768 * r - 27439 * g - 5329 * b + half) >> 16) + 128,
    ]
    tables = [_scaled(_LUMA_TABLE, quality), _scaled(_CHROMA_TABLE, quality)]
    blocks = [
        _quantised_blocks(np.clip(plane, 0, 255), tables[min(i, 1)])
        for i, plane in enumerate(planes)
    ]
    dc_code = {symbol: i for i, symbol in enumerate(_DC_SYMBOLS)}
    ac_code = {symbol: i for i, symbol in enumerate(_AC_SYMBOLS)}
    order = [u * 8 + v for u, v in _ZIGZAG]
    writer = _JpegBits()
    previous = [0, 0, 0]
    rows, cols = blocks[0].shape[:2]
    for row in range(rows):
        for col in range(cols):
            for component in range(3):
                zigzag = blocks[component][row, col].reshape(64)[order].tolist()
                size, bits = _magnitude(zigzag[0] - previous[component])
                previous[component] = zigzag[0]
                writer.bits(dc_code[size], 4)
                writer.bits(bits, size)
                run = 0
                for value in zigzag[1:]:
                    if value == 0:
                        run += 1
                        continue
                    while run > 15:
                        writer.bits(ac_code[0xF0], 8)
                        run -= 16
                    size, bits = _magnitude(value)
                    writer.bits(ac_code[(run << 4) | size], 8)
                    writer.bits(bits, size)
                    run = 0
                if run:
                    writer.bits(ac_code[0x00], 8)
    quant = b"".join(
        bytes([i]) + bytes(int(table[u, v]) for u, v in _ZIGZAG) for i, table in enumerate(tables)
    )
    huffman = b"".join(
        [
            _huffman_segment(0, 0, 4, _DC_SYMBOLS),
            _huffman_segment(1, 0, 8, _AC_SYMBOLS),
        ]
    )
    frame = struct.pack(">BHHB", 8, height, width, 3) + bytes([1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1])
    scan = bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0])

    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xDB, quant)
        + segment(0xC0, frame)
        + segment(0xC4, huffman)
        + segment(0xDA, scan)
        + writer.finish()
        + b"\xff\xd9"
    )
