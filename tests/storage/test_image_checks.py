"""storage.image_checks on pictures generated here with Pillow."""

from __future__ import annotations

import io
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

import storage.image_checks as checks
from models.errors import ErrorCode
from storage.image_checks import (
    PHOTO_MAX_BYTES,
    PHOTO_MIN_BYTES,
    ImageCheck,
    check_document,
    check_photo,
)
from tests.images import GREEN, RED, WHITE, R, jpeg, page, portrait


def padded(data: bytes, total: int) -> bytes:
    """The same JPEG grown to exactly ``total`` bytes with comment segments after SOI."""
    need = total - len(data)
    assert need == 0 or need >= 4
    segments = []
    while need:
        take = min(need, 65_537)
        if need - take in (1, 2, 3):
            take -= 4
        payload = take - 4
        segments.append(b"\xff\xfe" + struct.pack(">H", payload + 2) + b"c" * payload)
        need -= take
    result = data[:2] + b"".join(segments) + data[2:]
    assert len(result) == total
    return result


def at_least(data: bytes, total: int) -> bytes:
    return padded(data, max(len(data), total))


def codes(result: ImageCheck) -> list[ErrorCode]:
    return [problem.code for problem in result.problems]


@pytest.fixture(scope="module")
def good_photo() -> bytes:
    data = jpeg(portrait((640, 960)))
    assert PHOTO_MIN_BYTES <= len(data) <= PHOTO_MAX_BYTES
    return data


# the good case -------------------------------------------------------------------------------


def test_good_photo_passes(good_photo: bytes) -> None:
    result = check_photo(good_photo)
    assert result.problems == []
    assert result.ok and not result.blocking
    assert (result.width, result.height) == (640, 960)
    assert result.cleaned is not None and result.thumbnail is not None
    with (
        Image.open(io.BytesIO(result.cleaned)) as cleaned,
        Image.open(io.BytesIO(good_photo)) as src,
    ):
        assert cleaned.format == "JPEG"
        assert cleaned.size == (640, 960)
        assert cleaned.tobytes() == src.tobytes()  # metadata stripped, pixels untouched
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert thumb.format == "JPEG"
        assert max(thumb.size) <= 400
        assert thumb.size == (267, 400)


@pytest.mark.parametrize("background", [RED, WHITE, (20, 60, 160), (240, 240, 240)])
def test_red_blue_and_white_backgrounds_pass(background: tuple[int, int, int]) -> None:
    assert codes(check_photo(jpeg(portrait((600, 900), background)))) == []


def test_large_photo_passes_and_gets_a_small_thumbnail() -> None:
    data = jpeg(portrait((1800, 2700), seed=3), quality=85)
    result = check_photo(data)
    assert codes(result) == []
    assert result.thumbnail is not None
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert thumb.size == (267, 400)


def test_progressive_and_grayscale_photos_pass() -> None:
    picture = portrait((600, 900), WHITE)
    assert codes(check_photo(jpeg(picture, progressive=True))) == []
    grey = check_photo(jpeg(picture.convert("L")))
    assert codes(grey) == []
    assert grey.cleaned is not None
    with Image.open(io.BytesIO(grey.cleaned)) as cleaned:
        assert cleaned.mode == "L"


def test_cmyk_photo_is_normalised_to_rgb() -> None:
    data = jpeg(portrait((600, 900)).convert("CMYK"))
    result = check_photo(data)
    assert codes(result) == []
    assert result.cleaned is not None
    with Image.open(io.BytesIO(result.cleaned)) as cleaned:
        assert cleaned.mode == "RGB"
        assert cleaned.size == (600, 900)


# not a JPEG, damaged, polyglot ----------------------------------------------------------------


def test_png_renamed_is_not_jpeg() -> None:
    out = io.BytesIO()
    portrait((600, 900)).save(out, "PNG")
    result = check_photo(out.getvalue())
    assert codes(result) == [ErrorCode.FILE_NOT_JPEG]
    assert result.blocking and result.cleaned is None and result.thumbnail is None
    assert result.problems[0].field == ""


@pytest.mark.parametrize(
    "data", [b"", b"\xff\xd8", b"GIF89a" + b"\0" * 70_000, b"\xff\xd8\xff" * 30_000]
)
def test_garbage_is_refused(data: bytes) -> None:
    assert codes(check_photo(data))[0] in (ErrorCode.FILE_NOT_JPEG, ErrorCode.FILE_CORRUPT)


def test_truncated_file_is_corrupt(good_photo: bytes) -> None:
    assert codes(check_photo(good_photo[: len(good_photo) // 2])) == [ErrorCode.FILE_CORRUPT]
    assert codes(check_photo(good_photo[:-2])) == [ErrorCode.FILE_CORRUPT]  # no EOI


@pytest.mark.parametrize(
    "trailer",
    [b"PK\x03\x04" + b"\x00" * 200, b"<html><script>alert(1)</script></html>", b"\xff\xd8\xff"],
)
def test_data_after_the_image_is_refused(good_photo: bytes, trailer: bytes) -> None:
    assert codes(check_photo(good_photo + trailer)) == [ErrorCode.FILE_CORRUPT]


def test_padding_after_the_image_is_harmless(good_photo: bytes) -> None:
    result = check_photo(good_photo + b"\x00" * 64)
    assert codes(result) == []
    assert result.cleaned is not None and result.cleaned.endswith(b"\xff\xd9")


def test_comment_payloads_are_dropped(good_photo: bytes) -> None:
    payload = b"<?php system($_GET['c']); ?>"
    segment = b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload
    result = check_photo(good_photo[:2] + segment + good_photo[2:])
    assert codes(result) == []
    assert result.cleaned is not None
    assert payload not in result.cleaned


def test_unsupported_coding_is_not_jpeg(good_photo: bytes) -> None:
    position = good_photo.index(b"\xff\xc0")
    lossless = good_photo[:position] + b"\xff\xc3" + good_photo[position + 2 :]
    assert codes(check_photo(lossless)) == [ErrorCode.FILE_NOT_JPEG]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_files_never_raise(data: st.DataObject) -> None:
    original = jpeg(portrait((420, 630), seed=5), quality=70)
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8))):
        index = data.draw(st.integers(0, len(mutated) - 1))
        mutated[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(2, len(mutated)))
    for checker in (check_photo, check_document):
        result = checker(bytes(mutated[:cut]))
        assert isinstance(result, ImageCheck)
        assert (result.cleaned is None) == result.blocking


# sizes ------------------------------------------------------------------------------------------


def test_file_size_bounds_are_exclusive_of_60kb_and_3mb() -> None:
    base = jpeg(portrait((600, 900), seed=2), quality=40)
    assert len(base) < 61_000
    assert codes(check_photo(base)) == [ErrorCode.FILE_TOO_SMALL]
    assert codes(check_photo(padded(base, 60 * 1024))) == [ErrorCode.FILE_TOO_SMALL]
    assert codes(check_photo(padded(base, 60 * 1024 + 1))) == []
    assert codes(check_photo(padded(base, 3 * 1024 * 1024 - 1))) == []
    assert codes(check_photo(padded(base, 3 * 1024 * 1024))) == [ErrorCode.FILE_TOO_LARGE]


def test_oversized_file_is_refused_before_pillow(
    good_photo: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("Pillow must not open an oversized file")

    monkeypatch.setattr(Image, "open", forbidden)
    assert codes(check_photo(padded(good_photo, PHOTO_MAX_BYTES + 1))) == [ErrorCode.FILE_TOO_LARGE]


def test_too_small_photo() -> None:
    data = at_least(jpeg(portrait((400, 600))), 70_000)
    result = check_photo(data)
    assert codes(result) == [ErrorCode.IMAGE_TOO_SMALL]
    assert (result.width, result.height) == (400, 600)
    assert result.cleaned is None


def test_landscape_photo() -> None:
    result = check_photo(jpeg(portrait((1000, 700))))
    assert codes(result) == [ErrorCode.PHOTO_NOT_PORTRAIT]
    assert result.blocking


def test_green_background_is_reported_but_not_blocking() -> None:
    result = check_photo(jpeg(portrait((600, 900), GREEN)))
    assert codes(result) == [ErrorCode.PHOTO_BACKGROUND]
    assert not result.blocking
    assert result.cleaned is not None


@pytest.mark.parametrize("background", [(128, 128, 128), (230, 200, 60), (200, 120, 160)])
def test_other_backgrounds_are_reported(background: tuple[int, int, int]) -> None:
    assert ErrorCode.PHOTO_BACKGROUND in codes(check_photo(jpeg(portrait((600, 900), background))))


# upscaling ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "factor", "resample"),
    [
        ((260, 390), 2.5, R.BICUBIC),
        ((300, 450), 2.0, R.LANCZOS),
        ((330, 500), 1.5, R.BILINEAR),
        ((240, 360), 3.0, R.NEAREST),
        ((280, 420), 2.0, R.NEAREST),
    ],
)
def test_enlarged_small_photo_is_reported(
    source: tuple[int, int], factor: float, resample: Image.Resampling
) -> None:
    small = portrait(source, seed=7)
    enlarged = small.resize((round(source[0] * factor), round(source[1] * factor)), resample)
    result = check_photo(at_least(jpeg(enlarged), 61_441))
    assert codes(result) == [ErrorCode.PHOTO_UPSCALED]
    assert not result.blocking


def test_enlarging_a_big_enough_photo_is_allowed() -> None:
    picture = portrait((700, 1050), seed=8).resize((1400, 2100), R.BICUBIC)
    assert codes(check_photo(jpeg(picture))) == []


@pytest.mark.parametrize("size", [(413, 626), (500, 760), (900, 1350), (1300, 1950)])
def test_native_photos_are_not_reported_as_enlarged(size: tuple[int, int]) -> None:
    data = jpeg(portrait(size, seed=size[0]))
    assert codes(check_photo(at_least(data, 61_441))) == []


# EXIF ------------------------------------------------------------------------------------------


def exif_with_gps(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (30.0, 16.0, 27.0)
    gps[3] = "E"
    gps[4] = (120.0, 9.0, 18.0)
    return exif.tobytes()


def test_exif_orientation_is_applied_and_metadata_removed() -> None:
    upright = portrait((600, 900), seed=11)
    ImageDraw.Draw(upright).rectangle([0, 0, 59, 59], (255, 0, 0))  # marks the top-left
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a camera writes with tag 6
    data = jpeg(stored, exif=exif_with_gps(6), comment=b"shot at home")
    with Image.open(io.BytesIO(data)) as raw:
        assert raw.size == (900, 600)
        assert raw.getexif().get_ifd(0x8825)  # the GPS block is really there
    result = check_photo(data)
    assert codes(result) == []
    assert (result.width, result.height) == (600, 900)
    assert result.cleaned is not None and result.thumbnail is not None
    for blob in (result.cleaned, result.thumbnail):
        assert b"Exif\x00\x00" not in blob
        assert b"PhoneMaker" not in blob
        assert b"shot at home" not in blob
    with Image.open(io.BytesIO(result.cleaned)) as cleaned:
        assert cleaned.size == (600, 900)
        assert dict(cleaned.getexif()) == {}
        pixel = cleaned.convert("RGB").getpixel((20, 20))
        assert isinstance(pixel, tuple)
        red, green, blue = pixel[:3]
        assert red > 200 and green < 60 and blue < 60
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert thumb.size == (267, 400)


def test_gps_is_removed_without_touching_pixels(good_photo: bytes) -> None:
    with Image.open(io.BytesIO(good_photo)) as source:
        data = jpeg(source, exif=exif_with_gps(1), icc_profile=b"\0" * 300)
    result = check_photo(data)
    assert codes(result) == []
    assert result.cleaned is not None
    assert b"Exif" not in result.cleaned and b"ICC_PROFILE" not in result.cleaned
    assert b"\xff\xe1" not in result.cleaned[: result.cleaned.index(b"\xff\xda")]
    with Image.open(io.BytesIO(result.cleaned)) as cleaned, Image.open(io.BytesIO(data)) as src:
        assert cleaned.tobytes() == src.tobytes()


# decompression bombs --------------------------------------------------------------------------


def with_dimensions(data: bytes, width: int, height: int) -> bytes:
    position = data.index(b"\xff\xc0") + 5  # marker, length, precision
    return data[:position] + struct.pack(">HH", height, width) + data[position + 4 :]


def test_bomb_header_is_refused_fast(good_photo: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = with_dimensions(good_photo, 30_000, 30_000)  # 900 MP declared
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("decoded a bomb"))
    started = time.perf_counter()
    result = check_photo(bomb)
    assert time.perf_counter() - started < 0.05
    assert codes(result) == [ErrorCode.IMAGE_TOO_MANY_PIXELS]
    assert codes(check_document(bomb)) == [ErrorCode.IMAGE_TOO_MANY_PIXELS]


def test_pillows_bomb_error_never_escapes(
    good_photo: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks, "MAX_PIXELS", 10**12)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert codes(check_photo(good_photo)) == [ErrorCode.IMAGE_TOO_MANY_PIXELS]


def test_limit_is_about_forty_megapixels(good_photo: bytes) -> None:
    assert codes(check_photo(with_dimensions(good_photo, 5000, 8001))) == [
        ErrorCode.IMAGE_TOO_MANY_PIXELS
    ]
    # 5000x8000 passes the header check (what the doctored file decodes to is another matter)
    assert ErrorCode.IMAGE_TOO_MANY_PIXELS not in codes(
        check_photo(with_dimensions(good_photo, 5000, 8000))
    )


# documents -------------------------------------------------------------------------------------


def test_document_with_text_passes() -> None:
    result = check_document(jpeg(page(), quality=85))
    assert codes(result) == []
    assert (result.width, result.height) == (1240, 1754)
    assert result.cleaned is not None
    assert result.thumbnail is not None
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert max(thumb.size) <= 400


def test_blank_document() -> None:
    result = check_document(jpeg(page(text=False), quality=85))
    assert codes(result) == [ErrorCode.DOCUMENT_BLANK]
    assert not result.blocking
    dark = check_document(at_least(jpeg(Image.new("RGB", (1200, 1600), (12, 12, 12))), 20_000))
    assert codes(dark) == [ErrorCode.DOCUMENT_BLANK]


def test_low_resolution_document() -> None:
    data = at_least(jpeg(page((560, 800))), 40_000)
    result = check_document(data)
    assert codes(result) == [ErrorCode.DOCUMENT_LOW_RESOLUTION]
    assert result.blocking and result.cleaned is None


def test_document_size_bounds() -> None:
    data = jpeg(page(), quality=85)
    assert codes(check_document(data, max_bytes=len(data) - 1)) == [ErrorCode.FILE_TOO_LARGE]
    assert codes(check_document(data, min_bytes=len(data) + 1)) == [ErrorCode.FILE_TOO_SMALL]


def test_rotated_document_is_made_upright() -> None:
    upright = page()
    data = jpeg(upright.transpose(Image.Transpose.ROTATE_270), exif=exif_with_gps(8))
    result = check_document(data)
    assert codes(result) == []
    assert (result.width, result.height) == (1240, 1754)
    assert result.cleaned is not None
    with Image.open(io.BytesIO(result.cleaned)) as cleaned:
        assert cleaned.size == (1240, 1754)
        assert dict(cleaned.getexif()) == {}
