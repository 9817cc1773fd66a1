"""Pillow checks for uploaded attachments: the 2-inch ID photo and the document proofs.

Every file goes through the same gate before Pillow decodes a pixel:

1. the first bytes must be a JPEG's (``FF D8 FF``), else ``FILE_NOT_JPEG``;
2. the size must be within bounds (``FILE_TOO_SMALL`` / ``FILE_TOO_LARGE``), so a 3 MB + 1 B
   photo is refused before Pillow opens it;
3. the marker structure is walked (:func:`_walk_jpeg`): SOF, scans, EOI; a truncated file,
   a missing EOI, data after EOI (a polyglot or junk; padding and MPF-declared secondary
   images excepted), 12-bit, lossless, hierarchical or arithmetic-coded JPEGs, height
   0 (DNL) and more than :data:`MAX_SCANS` scans are refused;
4. the header's pixel count must be at most :data:`MAX_PIXELS` (``IMAGE_TOO_MANY_PIXELS``),
   so a decompression bomb is refused from the header alone, in microseconds, and Pillow's
   own ``DecompressionBombError`` can never surface;
5. a real decode (``draft`` reduced-size, see below) must succeed, else ``FILE_CORRUPT``.

``cleaned`` is the file without any metadata: the marker walk keeps only what decoding
needs (quantization and Huffman tables, frame and scan headers, restart intervals, the
Adobe colour-transform segment, the entropy-coded data) and drops every APPn segment
(EXIF with its GPS block and thumbnail, XMP, ICC, MPF, maker notes), every comment and
anything after EOI; the JFIF header, when there was one, is replaced by a bare one without
a thumbnail. The pixels are untouched (no generation loss, no full decode: a full decode
and re-encode of a 12 MP photo costs about four reduced-size decodes, which the speed
budget below does not allow). When the EXIF orientation is not 1, or the file is CMYK,
the image is instead decoded in full, rotated upright and re-encoded with the original's
quantization tables; ``width``/``height`` always describe the upright picture.

``thumbnail`` is a JPEG at most 400 px on its longer side, made from the reduced decode.

Photo rules (portal guide: JPG, red/blue/white background, > 60 KB, < 3 MB, at least
413x626 px, not enlarged from a picture that does not have enough pixels): the size bounds;
``IMAGE_TOO_SMALL``; ``PHOTO_NOT_PORTRAIT`` (height must exceed width); ``PHOTO_BACKGROUND``
(the top strip and the upper parts of the side strips must be at least 85% one of red,
blue or white, classified in HSV); ``PHOTO_UPSCALED`` (below).

Document rules: ``DOCUMENT_LOW_RESOLUTION`` when the shorter side is under 600 px and
``DOCUMENT_BLANK`` when, with the shorter side reduced to about 300 px (which averages paper
grain away but keeps text strokes), fewer than 0.3% of the pixels differ from their 5x5
neighbourhood mean by more than 12 levels (a page of text has several percent).

Which problems block: the file-level ones, the size rules and ``PHOTO_NOT_PORTRAIT``
(:data:`BLOCKING_CODES`); ``cleaned``/``thumbnail`` are None then. The content heuristics
(``PHOTO_BACKGROUND``, ``PHOTO_UPSCALED``, ``DOCUMENT_BLANK``) are reported but still
produce ``cleaned``: the caller decides whether to refuse the upload or show the problem to
the applicant and the reviewer.

Speed: the photo is decoded once with ``Image.draft`` at the largest DCT reduction (1/2,
1/4 or 1/8) that still leaves 1.5 x 413x626 pixels, which for a 3000x4000 photo is 1/4
(750x1000). Everything is computed from that image. ``bench/bench_photo_check.py`` compares
the whole check with Pillow's ``draft('RGB', (w//8, h//8))`` decode of the same file.

Upscaling (``PHOTO_UPSCALED``)
------------------------------
The guide forbids enlarging a photo whose pixel count falls short of 413x626 ("禁止将像素数量
不满足要求的照片进行放大后使用"), so the check asks "does this picture carry less detail than a
413x626 one?", not "was it ever resized?": a 1400x2100 picture enlarged 2x from 700x1050
has enough detail and passes. On the analysed grey image G of size D (upright, after the
reduced decode), with c = min(Dw/413, Dh/626), the test factor is s = max(1.1 c, 1.5):
a picture enlarged from less than 413x626 / 1.1 has no content above 1/s of G's Nyquist
frequency (the 1.1 keeps pictures just under the minimum out of the verdict).

- Smooth enlargement (bilinear, bicubic, Lanczos): on the subject area (the middle 60% of
  the width, 5%-85% of the height), ``ratio`` = mean|G - up(G/s)| / mean|G/s - up(G/2s)|
  (bicubic down, bicubic back up; the second term at the 1/s scale): the detail above 1/s
  of Nyquist against the octave below it. Natural pictures keep about as much in each
  octave (ratio ~0.5-1.5); enlarged ones have little there (ratio ~0.1-0.45).
  Flagged when ``ratio`` < :data:`UPSCALE_RATIO_THRESHOLD` (0.46).
- Nearest-neighbour enlargement (also Pillow's BOX upscale) leaves staircase edges that
  fool the ratio, but repeats rows and columns: in the central crop, the mean absolute
  difference between neighbouring rows (columns) drops below 40% of its local maximum (7
  rows) for the repeated ones. When at least 15% of both are repeats, the source size is
  estimated as D x (1 - repeated share) and flagged when below 413x626 / 1.1. A
  DCT-reduced decode blurs the repeats, so big enlargements are caught less often.

The threshold was chosen on a tuning set (about 450 pictures, other seeds) and the rates
below were then measured on fresh pictures.

Calibration (``python -m tools.bench.bench_photo_check --calibrate``): synthetic head-and-shoulders
photos (fractal-textured face, hair strands, clothes, plain red/blue/white background with a
lighting gradient, sensor noise 0-8, Gaussian blur 0-0.8 px, JPEG quality 70-95), measured
held out (seed 7, 1211 pictures; "flat" = 10% texture, a smooth "studio" look; "soft" =
Gaussian blur 0.8 px before any enlargement, which leaves the detail of a smaller picture):

    group                                                       n   flagged
    hits: enlarged 1.5-3x from < 87% of 413x626 (all filters)  157    84.1%
      BICUBIC 100%, BILINEAR 92.6%, LANCZOS 87.5%, NEAREST 92.0%, BOX 88.5%, HAMMING 44.4%
    hits: enlarged 4-13x from < 87% (to 1300-2700 px wide)     180    72.2%
      BICUBIC 96.7%, BILINEAR 93.3%, LANCZOS 100%, NEAREST 76.7%, BOX 53.3%, HAMMING 13.3%
    grey zone: enlarged 1.5-3x from 87-100% of the minimum      45    60.0%
    false alarms: natives, sharp (textured 101, flat 47)       148     0.0%
    false alarms: natives, soft                                 32    21.9%
    false alarms: enlarged from >= 120% of the minimum, sharp  164     0.6%
    false alarms: enlarged from >= 120% of the minimum, soft    34    32.4%
    false alarms: enlarged from 100-120% of the minimum, sharp  95    18.9%

A flatter generator (tests/storage/test_image_checks.py: flat shapes and grain, no texture)
gave 8% false alarms on natives during tuning, mostly at 1300-1600 px wide: the statistic
reads "little fine detail" and cannot tell a featureless picture from an enlarged one,
which is why ``PHOTO_UPSCALED`` does not block.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Final, cast

from PIL import Image, ImageChops, ImageFilter, ImageStat, JpegImagePlugin

from models.errors import ErrorCode, FieldProblem, size_limit_message

PHOTO_MIN_BYTES: Final = 60 * 1024 + 1  # "larger than 60 KB"
PHOTO_MAX_BYTES: Final = 3 * 1024 * 1024 - 1  # "smaller than 3 MB"
PHOTO_MIN_WIDTH: Final = 413
PHOTO_MIN_HEIGHT: Final = 626
DOCUMENT_MIN_BYTES: Final = 10 * 1024
DOCUMENT_MAX_BYTES: Final = 10 * 1024 * 1024
DOCUMENT_MIN_SHORT_SIDE: Final = 600
MAX_PIXELS: Final = 40_000_000
MAX_SCANS: Final = 100
THUMBNAIL_MAX_SIDE: Final = 400
THUMBNAIL_QUALITY: Final = 82

#: Problems after which there is no usable file (``cleaned`` and ``thumbnail`` are None).
BLOCKING_CODES: Final = frozenset(
    {
        ErrorCode.FILE_TOO_LARGE,
        ErrorCode.FILE_TOO_SMALL,
        ErrorCode.FILE_NOT_JPEG,
        ErrorCode.FILE_CORRUPT,
        ErrorCode.IMAGE_TOO_MANY_PIXELS,
        ErrorCode.IMAGE_TOO_SMALL,
        ErrorCode.PHOTO_NOT_PORTRAIT,
        ErrorCode.DOCUMENT_LOW_RESOLUTION,
    }
)

# upscaling heuristic (see the module docstring)
UPSCALE_ANALYSIS_MARGIN: Final = 1.5
UPSCALE_MIN_TEST_FACTOR: Final = 1.5
UPSCALE_TOLERANCE: Final = 1.1
UPSCALE_RATIO_THRESHOLD: Final = 0.46
REPEAT_RATIO: Final = 0.4
REPEAT_WINDOW: Final = 7
REPEAT_MIN_FRACTION: Final = 0.15

# background (HSV, Pillow's 0-255 scales)
BACKGROUND_MIN_SHARE: Final = 0.85
# blank documents (analysed with the shorter side near BLANK_ANALYSIS_SIDE)
BLANK_ANALYSIS_SIDE: Final = 300
BLANK_DIFF_LEVEL: Final = 12
BLANK_MAX_DETAIL_SHARE: Final = 0.003

_Resampling = Image.Resampling
_JFIF_HEADER: Final = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_SUPPORTED_SOF: Final = frozenset({0xC0, 0xC1, 0xC2})
_UNSUPPORTED_SOF: Final = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_KEPT_TABLES: Final = frozenset({0xC4, 0xDB, 0xDD, 0xCC})
_ORIENTATION_TAG: Final = 0x0112
_TRANSPOSE: Final = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


@dataclass(frozen=True, slots=True)
class ImageCheck:
    """The verdict on one file. ``field`` of every problem is "" (the caller nests it)."""

    problems: list[FieldProblem]
    width: int
    height: int
    cleaned: bytes | None = field(repr=False)
    thumbnail: bytes | None = field(repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def blocking(self) -> bool:
        return any(problem.code in BLOCKING_CODES for problem in self.problems)

    @property
    def codes(self) -> list[ErrorCode]:
        return [problem.code for problem in self.problems]


@dataclass(frozen=True, slots=True)
class UpscaleMeasure:
    """The numbers behind ``PHOTO_UPSCALED`` (exposed for calibration and diagnostics)."""

    ratio: float
    factor: float
    repeated_columns: float
    repeated_rows: float
    smooth_suspected: bool
    repeat_suspected: bool

    @property
    def suspected(self) -> bool:
        return self.smooth_suspected or self.repeat_suspected


class _Refused(Exception):
    def __init__(self, code: ErrorCode, message: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(slots=True)
class _Layout:
    width: int = 0
    height: int = 0
    components: int = 0
    scans: int = 0
    had_jfif: bool = False
    had_mpf: bool = False
    pieces: list[bytes] = field(default_factory=list)

    def stripped(self) -> bytes:
        head = [b"\xff\xd8"]
        if self.had_jfif:
            head.append(_JFIF_HEADER)
        return b"".join([*head, *self.pieces, b"\xff\xd9"])


def _problem(code: ErrorCode, message: str = "") -> FieldProblem:
    return FieldProblem("", code, message)


def _refusal(refused: _Refused, width: int = 0, height: int = 0) -> ImageCheck:
    return ImageCheck([_problem(refused.code, refused.message)], width, height, None, None)


def _walk_jpeg(data: bytes) -> _Layout:
    """Walk the marker segments; raise _Refused on anything a clean baseline/progressive
    8-bit JPEG would not contain. Collects the segments that decoding needs."""
    if len(data) < 4 or data[0] != 0xFF or data[1] != 0xD8:
        raise _Refused(ErrorCode.FILE_NOT_JPEG)
    layout = _Layout()
    pos = 2
    while True:
        marker, pos = _next_marker(data, pos)
        if marker == 0xD9:
            break
        end = _segment_end(data, marker, pos)
        if marker == 0xDA:
            pos = _take_scan(data, layout, pos, end)
            continue
        _take_segment(layout, marker, data[pos - 2 : end])
        pos = end
    if layout.width == 0 or layout.scans == 0:
        raise _Refused(ErrorCode.FILE_CORRUPT)
    _check_trailing(layout, data[pos:])
    return layout


def _next_marker(data: bytes, pos: int) -> tuple[int, int]:
    """The marker at ``pos`` (fill bytes skipped) and the position after it."""
    size = len(data)
    if pos >= size or data[pos] != 0xFF:
        raise _Refused(ErrorCode.FILE_CORRUPT)
    while pos < size and data[pos] == 0xFF:
        pos += 1
    if pos >= size:
        raise _Refused(ErrorCode.FILE_CORRUPT)
    return data[pos], pos + 1


def _segment_end(data: bytes, marker: int, pos: int) -> int:
    """Where the segment whose length field starts at ``pos`` ends."""
    if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
        raise _Refused(ErrorCode.FILE_CORRUPT)
    if pos + 2 > len(data):
        raise _Refused(ErrorCode.FILE_CORRUPT)
    length = int.from_bytes(data[pos : pos + 2], "big")
    end = pos + length
    if length < 2 or end > len(data):
        raise _Refused(ErrorCode.FILE_CORRUPT)
    return end


def _take_segment(layout: _Layout, marker: int, segment: bytes) -> None:
    """Keep what decoding needs from one non-scan segment; refuse what has no place here."""
    payload = segment[4:]
    if 0xE0 <= marker <= 0xEF:
        _take_app_segment(layout, marker, segment)
    elif marker == 0xFE:
        pass  # comment: dropped
    elif marker in _SUPPORTED_SOF:
        _take_frame_header(layout, payload)
        layout.pieces.append(segment)
    elif marker in _UNSUPPORTED_SOF or marker in (0xDE, 0xDF):
        raise _Refused(ErrorCode.FILE_NOT_JPEG)
    elif marker in _KEPT_TABLES:
        layout.pieces.append(segment)
    else:
        raise _Refused(ErrorCode.FILE_CORRUPT)  # DNL, reserved or unknown marker


def _take_app_segment(layout: _Layout, marker: int, segment: bytes) -> None:
    """APPn: note JFIF and MPF, keep Adobe's colour transform, drop the rest (EXIF, XMP …)."""
    payload = segment[4:]
    if marker == 0xE0 and payload.startswith(b"JFIF\x00"):
        layout.had_jfif = True
    elif marker == 0xE2 and payload.startswith(b"MPF\x00"):
        layout.had_mpf = True
    elif marker == 0xEE and payload.startswith(b"Adobe"):
        layout.pieces.append(segment)


def _take_frame_header(layout: _Layout, payload: bytes) -> None:
    """SOFn: one frame, 8-bit samples, a real size and 1, 3 or 4 components."""
    if layout.width or len(payload) < 6:
        raise _Refused(ErrorCode.FILE_CORRUPT)
    if payload[0] != 8:
        raise _Refused(ErrorCode.FILE_NOT_JPEG)
    layout.height = int.from_bytes(payload[1:3], "big")
    layout.width = int.from_bytes(payload[3:5], "big")
    layout.components = payload[5]
    if layout.height == 0 or layout.width == 0 or layout.components not in (1, 3, 4):
        raise _Refused(ErrorCode.FILE_CORRUPT)


def _take_scan(data: bytes, layout: _Layout, pos: int, end: int) -> int:
    """SOS: keep the header and the entropy-coded data; the position of the next marker."""
    if layout.width == 0:
        raise _Refused(ErrorCode.FILE_CORRUPT)
    layout.scans += 1
    if layout.scans > MAX_SCANS:
        raise _Refused(ErrorCode.FILE_CORRUPT)
    found = _NEXT_MARKER.search(data, end)
    if found is None:
        raise _Refused(ErrorCode.FILE_CORRUPT)  # truncated inside the scan
    layout.pieces.append(data[pos - 2 : end])
    layout.pieces.append(data[end : found.start()])
    return found.start()


def _check_trailing(layout: _Layout, trailing: bytes) -> None:
    """Padding is harmless; an MPF file (phone "multi-picture", gain map) appends its other
    images; anything else after EOI is a polyglot or junk."""
    mpf_images = layout.had_mpf and trailing.lstrip(b"\x00").startswith(b"\xff\xd8\xff")
    if trailing.strip(b"\x00\xff") and not mpf_images:
        raise _Refused(ErrorCode.FILE_CORRUPT)


def _open(data: bytes) -> tuple[JpegImagePlugin.JpegImageFile, int]:
    """Open with Pillow (header only) and read the EXIF orientation."""
    try:
        image = Image.open(io.BytesIO(data), formats=["JPEG"])
    except Image.DecompressionBombError:
        raise _Refused(ErrorCode.IMAGE_TOO_MANY_PIXELS) from None
    except Exception:
        raise _Refused(ErrorCode.FILE_NOT_JPEG) from None
    if not isinstance(image, JpegImagePlugin.JpegImageFile):
        raise _Refused(ErrorCode.FILE_NOT_JPEG)
    try:
        orientation = int(image.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:
        orientation = 1
    return image, orientation if orientation in range(1, 9) else 1


def _gate(data: bytes, min_bytes: int, max_bytes: int) -> tuple[_Layout, Image.Image, int]:
    if not data.startswith(b"\xff\xd8\xff"):
        raise _Refused(ErrorCode.FILE_NOT_JPEG)
    if len(data) > max_bytes:
        code = ErrorCode.FILE_TOO_LARGE
        raise _Refused(code, size_limit_message(code, max_bytes))
    if len(data) < min_bytes:
        code = ErrorCode.FILE_TOO_SMALL
        raise _Refused(code, size_limit_message(code, min_bytes))
    layout = _walk_jpeg(data)
    if layout.width * layout.height > MAX_PIXELS:
        raise _Refused(ErrorCode.IMAGE_TOO_MANY_PIXELS)
    image, orientation = _open(data)
    if image.size != (layout.width, layout.height):
        raise _Refused(ErrorCode.FILE_CORRUPT)
    return layout, image, orientation


def _upright_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    return (height, width) if orientation >= 5 else (width, height)


def _decode_reduced(image: Image.Image, orientation: int, want: tuple[int, int]) -> Image.Image:
    """Decode with the largest DCT reduction that keeps ``want`` (upright) pixels; RGB."""
    stored_want = (want[1], want[0]) if orientation >= 5 else want
    try:
        image.draft("RGB", stored_want)
        image.load()
        decoded = image if image.mode == "RGB" else image.convert("RGB")
    except Exception:
        raise _Refused(ErrorCode.FILE_CORRUPT) from None
    for step in _TRANSPOSE.get(orientation, ()):
        decoded = decoded.transpose(step)
    return decoded


def _thumbnail(image: Image.Image) -> bytes:
    factor = max(image.size) // THUMBNAIL_MAX_SIDE
    thumb = image.reduce(factor) if factor > 1 else image.copy()
    thumb.thumbnail((THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE), _Resampling.BICUBIC)
    thumb.info = {}  # Pillow would copy a JPEG comment from here into the output
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=False)
    return out.getvalue()


def _cleaned(data: bytes, layout: _Layout, orientation: int) -> bytes:
    if orientation == 1 and layout.components in (1, 3):
        return layout.stripped()
    return _reencode_upright(data, orientation)


def _reencode_upright(data: bytes, orientation: int) -> bytes:
    """Full decode, rotate upright, re-encode without metadata (rotated or CMYK files)."""
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as source:
            source.load()
            assert isinstance(source, JpegImagePlugin.JpegImageFile)
            tables = source.quantization if source.mode != "CMYK" else None
            sampling = JpegImagePlugin.get_sampling(source)
            picture: Image.Image = source if source.mode in ("RGB", "L") else source.convert("RGB")
            for step in _TRANSPOSE.get(orientation, ()):
                picture = picture.transpose(step)
            picture.info = {}  # Pillow would copy a JPEG comment from here into the output
            out = io.BytesIO()
            options: dict[str, object] = {"subsampling": 0 if sampling == 0 else 2}
            if tables and len(tables) <= 4:
                options["qtables"] = [list(tables[index]) for index in sorted(tables)]
            else:
                options["quality"] = 92
            picture.save(out, "JPEG", **options)
            return out.getvalue()
    except _Refused:
        raise
    except Exception:
        raise _Refused(ErrorCode.FILE_CORRUPT) from None


# photo heuristics ---------------------------------------------------------------------------


def _lut(low: int, high: int) -> list[int]:
    return [255 if low <= value <= high else 0 for value in range(256)]


_LUTS: Final = {
    "grey": _lut(0, 40),
    "bright": _lut(190, 255),
    "blue_hue": _lut(135, 177),
    "blue_saturation": _lut(80, 255),
    "blue_value": _lut(80, 255),
    "red_hue": [max(a, b) for a, b in zip(_lut(241, 255), _lut(0, 10), strict=True)],
    "red_saturation": _lut(110, 255),
    "red_value": _lut(100, 255),
}


def _both(first: Image.Image, second: Image.Image) -> Image.Image:
    return ImageChops.multiply(first, second)


def background_share(image: Image.Image) -> tuple[str, float]:
    """The dominant background class ('red' | 'blue' | 'white' | 'other') of the border
    strips (top 8%, and the outer 6% of each side over the upper half) and its share."""
    width, height = image.size
    factor = max(1, min(width, height) // 160)
    small = image.reduce(factor) if factor > 1 else image
    hue, saturation, value = small.convert("HSV").split()
    masks = {
        "white": _both(saturation.point(_LUTS["grey"]), value.point(_LUTS["bright"])),
        "blue": _both(
            _both(hue.point(_LUTS["blue_hue"]), saturation.point(_LUTS["blue_saturation"])),
            value.point(_LUTS["blue_value"]),
        ),
        "red": _both(
            _both(hue.point(_LUTS["red_hue"]), saturation.point(_LUTS["red_saturation"])),
            value.point(_LUTS["red_value"]),
        ),
    }
    w, h = small.size
    top = max(1, round(h * 0.08))
    side = max(1, round(w * 0.06))
    half = max(top + 1, h // 2)
    boxes = [(0, 0, w, top), (0, top, side, half), (w - side, top, w, half)]
    total = sum((box[2] - box[0]) * (box[3] - box[1]) for box in boxes)
    best, best_share = "other", 0.0
    for name, mask in masks.items():
        hits = sum(mask.crop(box).histogram()[255] for box in boxes)
        share = hits / total
        if share > best_share:
            best, best_share = name, share
    if best_share < BACKGROUND_MIN_SHARE:
        return "other", best_share
    return best, best_share


def _mean_difference(first: Image.Image, second: Image.Image) -> float:
    return float(ImageStat.Stat(ImageChops.difference(first, second)).mean[0])


def _detail_ratio(gray: Image.Image, factor: float) -> float:
    """mean|G - up(G/f)| over mean|G/f - up(G/2f)|: the detail above 1/f of Nyquist
    against the octave below it (the second term is measured at the 1/f scale)."""
    width, height = gray.size
    small = gray.resize(
        (max(1, round(width / factor)), max(1, round(height / factor))), _Resampling.BICUBIC
    )
    smaller = small.resize(
        (max(1, round(small.width / 2)), max(1, round(small.height / 2))), _Resampling.BICUBIC
    )
    high = _mean_difference(gray, small.resize(gray.size, _Resampling.BICUBIC))
    mid = _mean_difference(small, smaller.resize(small.size, _Resampling.BICUBIC))
    return high / mid if mid > 0.25 else 1.0


def _repeated_fraction(gray: Image.Image) -> float:
    """Share of row-to-row steps that look like a repeated row (nearest-neighbour)."""
    width, height = gray.size
    if height < 3 * REPEAT_WINDOW:
        return 0.0
    steps = ImageChops.difference(
        gray.crop((0, 0, width, height - 1)), gray.crop((0, 1, width, height))
    )
    profile = steps.convert("F").resize((1, height - 1), _Resampling.BOX)
    local_max = profile.filter(ImageFilter.MaxFilter(REPEAT_WINDOW))
    active = repeated = 0
    values = cast("tuple[float, ...]", profile.get_flattened_data())
    maxima = cast("tuple[float, ...]", local_max.get_flattened_data())
    for value, peak in zip(values, maxima, strict=True):
        if peak > 1.5:
            active += 1
            if value < REPEAT_RATIO * peak:
                repeated += 1
    return repeated / active if active else 0.0


def measure_upscaling(gray: Image.Image) -> UpscaleMeasure:
    """Measure ``gray`` (the analysed, upright, mode L image) for enlargement from a
    picture smaller than 413x626 (see the module docstring)."""
    width, height = gray.size
    coverage = min(width / PHOTO_MIN_WIDTH, height / PHOTO_MIN_HEIGHT)
    subject = gray.crop((width // 5, height // 20, width - width // 5, height - height * 3 // 20))
    factor = max(coverage * UPSCALE_TOLERANCE, UPSCALE_MIN_TEST_FACTOR)
    ratio = _detail_ratio(subject, factor)
    core = gray.crop((width // 4, height // 10, width - width // 4, height - height // 10))
    rows = _repeated_fraction(core)
    columns = _repeated_fraction(core.transpose(Image.Transpose.TRANSPOSE))
    repeat = min(rows, columns) >= REPEAT_MIN_FRACTION and (
        width * (1 - columns) < PHOTO_MIN_WIDTH or height * (1 - rows) < PHOTO_MIN_HEIGHT
    )
    return UpscaleMeasure(
        ratio=ratio,
        factor=factor,
        repeated_columns=columns,
        repeated_rows=rows,
        smooth_suspected=ratio < UPSCALE_RATIO_THRESHOLD,
        repeat_suspected=repeat,
    )


def _blank(image: Image.Image) -> bool:
    gray = image.convert("L")
    factor = max(1, min(gray.size) // BLANK_ANALYSIS_SIDE)
    if factor > 1:
        gray = gray.reduce(factor)
    detail = ImageChops.difference(gray, gray.filter(ImageFilter.BoxBlur(2)))
    histogram = detail.histogram()
    busy = sum(histogram[BLANK_DIFF_LEVEL + 1 :])
    return busy / (gray.width * gray.height) < BLANK_MAX_DETAIL_SHARE


# public checks ----------------------------------------------------------------------------


def check_photo(data: bytes) -> ImageCheck:
    """Check a 2-inch ID photo (see the module docstring). CPU-bound: run it in a worker
    thread (``anyio.to_thread.run_sync``) from async code."""
    return _inspect_photo(data, PHOTO_MIN_BYTES, PHOTO_MAX_BYTES)[0]


def photo_upscale_measure(data: bytes) -> UpscaleMeasure | None:
    """The upscaling measurements :func:`check_photo` bases ``PHOTO_UPSCALED`` on, whatever
    the file's byte size; None when the photo is refused before that test (for calibration
    and diagnostics)."""
    return _inspect_photo(data, 0, len(data))[1]


def _inspect_photo(
    data: bytes, min_bytes: int, max_bytes: int
) -> tuple[ImageCheck, UpscaleMeasure | None]:
    try:
        layout, image, orientation = _gate(data, min_bytes, max_bytes)
    except _Refused as refused:
        return _refusal(refused), None
    width, height = _upright_size(layout.width, layout.height, orientation)
    problems: list[FieldProblem] = []
    if width < PHOTO_MIN_WIDTH or height < PHOTO_MIN_HEIGHT:
        problems.append(_problem(ErrorCode.IMAGE_TOO_SMALL))
    if height <= width:
        problems.append(_problem(ErrorCode.PHOTO_NOT_PORTRAIT))
    if problems:
        image.close()
        return ImageCheck(problems, width, height, None, None), None
    want = (
        round(PHOTO_MIN_WIDTH * UPSCALE_ANALYSIS_MARGIN),
        round(PHOTO_MIN_HEIGHT * UPSCALE_ANALYSIS_MARGIN),
    )
    try:
        picture = _decode_reduced(image, orientation, want)
        if background_share(picture)[0] == "other":
            problems.append(_problem(ErrorCode.PHOTO_BACKGROUND))
        measure = measure_upscaling(picture.convert("L"))
        if measure.suspected:
            problems.append(_problem(ErrorCode.PHOTO_UPSCALED))
        thumbnail = _thumbnail(picture)
        cleaned = _cleaned(data, layout, orientation)
    except _Refused as refused:
        return _refusal(refused, width, height), None
    finally:
        image.close()
    return ImageCheck(problems, width, height, cleaned, thumbnail), measure


def check_document(
    data: bytes,
    *,
    min_bytes: int = DOCUMENT_MIN_BYTES,
    max_bytes: int = DOCUMENT_MAX_BYTES,
) -> ImageCheck:
    """Check a document proof (certificate, diploma, employer proof): readable resolution
    and not blank. CPU-bound: run it in a worker thread from async code."""
    try:
        layout, image, orientation = _gate(data, min_bytes, max_bytes)
    except _Refused as refused:
        return _refusal(refused)
    width, height = _upright_size(layout.width, layout.height, orientation)
    if min(width, height) < DOCUMENT_MIN_SHORT_SIDE:
        image.close()
        return _refusal(_Refused(ErrorCode.DOCUMENT_LOW_RESOLUTION), width, height)
    problems: list[FieldProblem] = []
    try:
        picture = _decode_reduced(image, orientation, (BLANK_ANALYSIS_SIDE, BLANK_ANALYSIS_SIDE))
        if _blank(picture):
            problems.append(_problem(ErrorCode.DOCUMENT_BLANK))
        thumbnail = _thumbnail(picture)
        cleaned = _cleaned(data, layout, orientation)
    except _Refused as refused:
        return _refusal(refused, width, height)
    finally:
        image.close()
    return ImageCheck(problems, width, height, cleaned, thumbnail)
