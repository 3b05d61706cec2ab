"""Reads the PNG files pdftoppm writes (8-bit grey, RGB or RGBA, not
interlaced) with the standard library only, and compares two images."""
import struct
import zlib

CHANNELS = {0: 1, 2: 3, 6: 4}  # PNG colour type: bytes per pixel


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _unfilter(kind, line, prev, bpp):
    """Undoes one row's filter (PNG specification, section 9) in place."""
    if kind == 1:
        for i in range(bpp, len(line)):
            line[i] = (line[i] + line[i - bpp]) & 0xff
    elif kind == 2:
        for i in range(len(line)):
            line[i] = (line[i] + prev[i]) & 0xff
    elif kind == 3:
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
    elif kind == 4:
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            corner = prev[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + _paeth(left, prev[i], corner)) & 0xff
    elif kind != 0:
        raise ValueError("unknown PNG filter %d" % kind)


def read_png(path):
    """(width, height, channels, pixels): pixels as bytes, row by row."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s is not a PNG file" % path)
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + size
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or interlace or colour not in CHANNELS:
        raise ValueError("%s: only 8-bit, non-interlaced grey/RGB/RGBA is read" % path)
    bpp = CHANNELS[colour]
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    pixels = bytearray()
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = bytearray(raw[start + 1:start + 1 + stride])
        _unfilter(raw[start], line, prev, bpp)
        pixels += line
        prev = line
    return width, height, bpp, bytes(pixels)


def mean_difference(a, b):
    """Mean absolute difference per channel (0 to 255) of two images read
    by read_png; ValueError when their sizes differ."""
    if a[:3] != b[:3]:
        raise ValueError("sizes differ: %dx%d, %d channel(s) and %dx%d, %d channel(s)"
                         % (a[:3] + b[:3]))
    return sum(abs(x - y) for x, y in zip(a[3], b[3])) / len(a[3])
