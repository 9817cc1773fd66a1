"""Pictures generated with Pillow for the tests: ID photos, photographed documents."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageChops, ImageDraw, ImageFont

R = Image.Resampling
BLUE = (67, 142, 219)
RED = (214, 24, 30)
WHITE = (252, 252, 250)
GREEN = (40, 160, 70)


def noise(size: tuple[int, int], rng: random.Random, amplitude: int) -> Image.Image:
    """Grey noise centred on 128 (uniform, +-amplitude), reproducible."""
    raw = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    return raw.point(lambda v: 128 + (v - 128) * amplitude // 128)


def portrait(
    size: tuple[int, int],
    background: tuple[int, int, int] = BLUE,
    *,
    seed: int = 1,
    grain: int = 10,
) -> Image.Image:
    """A head-and-shoulders picture: sharp shapes drawn at twice the size and reduced,
    textured skin and clothes, hair strokes, sensor grain over everything."""
    rng = random.Random(seed)
    width, height = size
    big = (width * 2, height * 2)
    image = Image.new("RGB", big, background)
    draw = ImageDraw.Draw(image)
    draw.ellipse([0.05 * big[0], 0.72 * big[1], 0.95 * big[0], 1.4 * big[1]], (35, 38, 52))
    draw.rectangle([0.42 * big[0], 0.5 * big[1], 0.58 * big[0], 0.78 * big[1]], (222, 178, 150))
    draw.ellipse([0.29 * big[0], 0.16 * big[1], 0.71 * big[0], 0.62 * big[1]], (226, 182, 152))
    draw.chord([0.27 * big[0], 0.12 * big[1], 0.73 * big[0], 0.45 * big[1]], 180, 360, (28, 22, 20))
    for _ in range(250):
        x, y = rng.uniform(0.28, 0.72) * big[0], rng.uniform(0.12, 0.3) * big[1]
        dx, dy = rng.uniform(-0.05, 0.05) * big[0], rng.uniform(0.0, 0.08) * big[1]
        draw.line([x, y, x + dx, y + dy], (rng.randint(5, 70),) * 3, rng.randint(1, 3))
    for eye in (0.42, 0.58):
        draw.ellipse([(eye - 0.04) * big[0], 0.35 * big[1], (eye + 0.04) * big[0], 0.38 * big[1]])
        draw.ellipse(
            [(eye - 0.012) * big[0], 0.35 * big[1], (eye + 0.012) * big[0], 0.38 * big[1]],
            (30, 20, 20),
        )
    draw.ellipse([0.44 * big[0], 0.5 * big[1], 0.56 * big[0], 0.53 * big[1]], (170, 60, 60))
    image = image.resize(size, R.LANCZOS)
    texture = noise((max(2, width // 6), max(2, height // 6)), rng, 90).resize(size, R.BICUBIC)
    subject = Image.new("L", size, 0)
    ImageDraw.Draw(subject).ellipse([0.05 * width, 0.12 * height, 0.95 * width, 1.4 * height], 90)
    image = Image.composite(
        ImageChops.add(image, Image.merge("RGB", [texture] * 3), 1, -128), image, subject
    )
    grain_rgb = Image.merge("RGB", [noise(size, rng, grain) for _ in range(3)])
    return ImageChops.add(image, grain_rgb, 1, -128)


def jpeg(image: Image.Image, quality: int = 92, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, **options)
    return out.getvalue()


def page(size: tuple[int, int] = (1240, 1754), *, text: bool = True, seed: int = 4) -> Image.Image:
    """A photographed A4 page: off-white paper, uneven light, grain, optionally text."""
    rng = random.Random(seed)
    width, height = size
    paper = Image.new("RGB", size, (246, 244, 238))
    light = Image.linear_gradient("L").resize(size).point(lambda v: v // 6)
    paper = ImageChops.subtract(paper, Image.merge("RGB", [light] * 3))
    if text:
        draw = ImageDraw.Draw(paper)
        font = ImageFont.load_default(size=max(12, width // 40))
        draw.text(
            (width * 0.3, height * 0.06),
            "开始会计工作单位证明 CERTIFICATE",
            (20, 20, 20),
            font=font,
        )
        for line in range(18):
            y = height * (0.15 + line * 0.04)
            words = " ".join("".join(rng.choice("abcdefghij") for _ in range(6)) for _ in range(8))
            draw.text((width * 0.1, y), words, (30, 30, 35), font=font)
        draw.ellipse(
            [width * 0.62, height * 0.75, width * 0.85, height * 0.9],
            outline=(200, 30, 30),
            width=5,
        )
    grain = Image.merge("RGB", [noise(size, rng, 14) for _ in range(3)])
    return ImageChops.add(paper, grain, 1, -128)
