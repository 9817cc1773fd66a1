"""Benchmark and calibration for ``storage.image_checks.check_photo``.

    .venv/bin/python -m tools.bench.bench_photo_check               # speed against draft decode
    .venv/bin/python -m tools.bench.bench_photo_check --calibrate   # upscaling heuristic rates

The speed run generates a 3000x4000 head-and-shoulders photo on a plain background with
sensor noise, saved as a JPEG just under 3 MB, and prints the median time of
``check_photo`` next to the median of Pillow's reduced-size decode
``draft('RGB', (w // 8, h // 8))`` of the same bytes, measured alternately in the same run,
and their ratio (the budget is 2.0).

The calibration run generates synthetic photos (see :func:`synth_photo`) in four groups and
prints how often ``PHOTO_UPSCALED`` fires in each:

- natives (never resized): false alarms;
- enlargements by 1.5x-3x of pictures under 87% of 413x626, per resampling filter: hits;
- enlargements of pictures between 87% and 100% of 413x626: the grey zone, reported only;
- enlargements of pictures of at least 413x626, which the rule allows: false alarms.

Each group is split into sharp sources (Gaussian blur <= 0.6 px) and soft ones (0.8 px,
which removes most of the top octave: such a picture has the detail of a smaller one).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from storage.image_checks import (
    PHOTO_MAX_BYTES,
    PHOTO_MIN_HEIGHT,
    PHOTO_MIN_WIDTH,
    check_photo,
    photo_upscale_measure,
)

Resampling = Image.Resampling
BLUE = (67, 142, 219)
RED = (220, 30, 35)
WHITE = (250, 250, 250)


def noise_image(size: tuple[int, int], rng: random.Random, sigma: float) -> Image.Image:
    """Roughly Gaussian grey noise around 128 (a sum of two uniforms), reproducible."""
    width, height = size
    first = Image.frombytes("L", size, rng.randbytes(width * height))
    second = Image.frombytes("L", size, rng.randbytes(width * height))
    scale = sigma / 52.0
    return Image.blend(first, second, 0.5).point(
        lambda v: max(0, min(255, round(128 + (v - 127.5) * scale)))
    )


def fractal(size: tuple[int, int], rng: random.Random, octaves: int = 7) -> Image.Image:
    """Noise summed over octaves with equal weight (a 1/f^2 spectrum, like natural images)."""
    width, height = size
    total: Image.Image | None = None
    for index, level in enumerate(range(octaves, -1, -1)):
        layer = noise_image((max(2, width >> level), max(2, height >> level)), rng, 60)
        if layer.size != size:
            layer = layer.resize(size, Resampling.BICUBIC)
        total = layer if total is None else Image.blend(total, layer, 1.0 / (index + 1))
    assert total is not None
    return total.point(lambda v: max(0, min(255, 128 + (v - 128) * 3)))


def _tint(texture: Image.Image, base: tuple[int, int, int], amount: float) -> Image.Image:
    bands = [
        texture.point(lambda v, c=c: max(0, min(255, int(c + (v - 128) * amount)))) for c in base
    ]
    return Image.merge("RGB", bands)


def synth_photo(
    size: tuple[int, int],
    *,
    background: tuple[int, int, int] = BLUE,
    seed: int = 0,
    noise: float = 4.0,
    blur: float = 0.0,
    supersample: int = 2,
    strands: int = 300,
    texture_strength: float = 1.0,
) -> Image.Image:
    """A head-and-shoulders picture: fractal-textured face, neck and clothes, hair strands,
    eyes, brows, mouth, on a plain background with a lighting gradient; drawn at
    ``supersample`` times the size and reduced with Lanczos (like a camera picture reduced
    to size), then optionally blurred, then sensor noise of ``noise`` levels added.
    ``texture_strength`` 0.1 gives a "studio" look: nearly flat skin and clothes."""
    rng = random.Random(seed)
    width, height = size
    big_w, big_h = width * supersample, height * supersample
    texture = fractal(size, rng)

    def enlarge(image: Image.Image) -> Image.Image:
        return image.resize((big_w, big_h), Resampling.BICUBIC) if supersample != 1 else image

    def box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [big_w * x0, big_h * y0, big_w * x1, big_h * y1]

    def jitter() -> float:
        return rng.uniform(-0.03, 0.03)

    picture = Image.new("RGB", (big_w, big_h), background)
    gradient = Image.linear_gradient("L").resize((big_w, big_h), Resampling.BILINEAR)
    shade = Image.new("RGB", (big_w, big_h), tuple(max(0, c - 18) for c in background))
    picture = Image.composite(shade, picture, gradient.point(lambda v: v // 3))
    grey = rng.randint(20, 80)
    cloth = enlarge(_tint(texture, (grey, grey, rng.randint(20, 90)), 0.35 * texture_strength))
    mask = Image.new("L", (big_w, big_h), 0)
    ImageDraw.Draw(mask).ellipse(box(0.02 + jitter(), 0.70 + jitter(), 0.98 + jitter(), 1.45), 255)
    picture.paste(cloth, (0, 0), mask)
    draw = ImageDraw.Draw(picture)
    collar = max(1, big_w // 60)
    draw.line([big_w * 0.5, big_h * 0.78, big_w * 0.35, big_h * 0.72], (230, 230, 230), collar)
    draw.line([big_w * 0.5, big_h * 0.78, big_w * 0.65, big_h * 0.72], (230, 230, 230), collar)
    skin_base = (rng.randint(190, 235), rng.randint(150, 185), rng.randint(120, 160))
    skin = enlarge(
        _tint(texture.transpose(Image.Transpose.ROTATE_180), skin_base, 0.18 * texture_strength)
    )
    mask = Image.new("L", (big_w, big_h), 0)
    centre = 0.5 + jitter()
    ImageDraw.Draw(mask).rectangle(box(centre - 0.08, 0.52, centre + 0.08, 0.76), 255)
    ImageDraw.Draw(mask).ellipse(box(centre - 0.21, 0.17 + jitter(), centre + 0.21, 0.62), 255)
    picture.paste(skin, (0, 0), mask)
    hair_texture = texture.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    hair = enlarge(_tint(hair_texture, (30, 25, 22), 0.25 * texture_strength))
    mask = Image.new("L", (big_w, big_h), 0)
    ImageDraw.Draw(mask).chord(box(centre - 0.23, 0.12, centre + 0.23, 0.48), 180, 360, 255)
    picture.paste(hair, (0, 0), mask)
    draw = ImageDraw.Draw(picture)
    for _ in range(round(strands * min(1.0, texture_strength))):
        x = big_w * (centre + rng.uniform(-0.22, 0.22))
        y = big_h * rng.uniform(0.12, 0.28)
        points = [(x, y)]
        for _ in range(4):
            x += big_w * rng.uniform(-0.03, 0.03)
            y += big_h * rng.uniform(0.0, 0.04)
            points.append((x, y))
        tone = rng.randint(10, 70)
        stroke = max(1, int(supersample * rng.uniform(0.6, 2.0)))
        draw.line(points, (tone, max(0, tone - 5), tone // 2), stroke)
    for offset in (-0.08, 0.08):
        eye_x, eye_y = centre + offset, 0.36
        draw.ellipse(
            box(eye_x - 0.045, eye_y - 0.012, eye_x + 0.045, eye_y + 0.012), (240, 240, 235)
        )
        draw.ellipse(box(eye_x - 0.015, eye_y - 0.012, eye_x + 0.015, eye_y + 0.012), (40, 30, 25))
        brow = [big_w * (eye_x - 0.05), big_h * (eye_y - 0.03)]
        brow += [big_w * (eye_x + 0.05), big_h * (eye_y - 0.035)]
        draw.line(brow, (50, 40, 35), max(1, big_h // 150))
    nose_colour = tuple(c - 40 for c in skin_base)
    nose = [big_w * centre, big_h * 0.38, big_w * (centre - 0.01), big_h * 0.46]
    draw.line(nose, nose_colour, max(1, big_h // 400))
    draw.ellipse(box(centre - 0.06, 0.50, centre + 0.06, 0.525), (170, 70, 70))
    if supersample != 1:
        picture = picture.resize(size, Resampling.LANCZOS)
    if blur:
        picture = picture.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        grain = Image.merge("RGB", [noise_image(size, rng, noise) for _ in range(3)])
        picture = ImageChops.add(picture, grain, 1.0, -128)
    return picture


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def benchmark_photo(target_bytes: int = 3_000_000) -> bytes:
    """The 3000x4000 benchmark photo as a JPEG of at most ``target_bytes`` (< 3 MB)."""
    picture = synth_photo((3000, 4000), seed=2026, noise=4.0, supersample=1, strands=900)
    for quality in range(95, 50, -1):
        data = jpeg_bytes(picture, quality)
        if len(data) <= min(target_bytes, PHOTO_MAX_BYTES):
            return data
    raise RuntimeError("could not fit the benchmark photo under the size limit")


def median_ms(runs: list[float]) -> float:
    return statistics.median(runs) * 1000


def run_benchmark(repeats: int) -> None:
    data = benchmark_photo()
    verdict = check_photo(data)
    if verdict.problems or verdict.cleaned is None:
        raise SystemExit(f"benchmark photo did not pass the check: {verdict.problems}")

    def draft_decode() -> None:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (image.width // 8, image.height // 8))
            image.load()

    def check() -> None:
        check_photo(data)

    timings: dict[str, list[float]] = {"check": [], "draft": []}
    jobs: list[tuple[str, Callable[[], None]]] = [("check", check), ("draft", draft_decode)]
    for _name, job in jobs:  # warm-up
        job()
    for _ in range(repeats):
        for name, job in jobs:
            start = time.perf_counter()
            job()
            timings[name].append(time.perf_counter() - start)
    check_ms, draft_ms = median_ms(timings["check"]), median_ms(timings["draft"])
    print(f"photo: 3000x4000 JPEG, {len(data):,} bytes; {repeats} alternating runs each")
    print(f"check_photo median:                   {check_ms:7.1f} ms")
    print(f"draft('RGB', (w//8, h//8)) median:    {draft_ms:7.1f} ms")
    print(f"ratio:                                {check_ms / draft_ms:7.2f} (budget 2.00)")


FILTERS = [
    Resampling.NEAREST,
    Resampling.BOX,
    Resampling.BILINEAR,
    Resampling.HAMMING,
    Resampling.BICUBIC,
    Resampling.LANCZOS,
]


def _portrait(rng: random.Random, low_w: int, high_w: int) -> tuple[int, int]:
    width = rng.randint(low_w, high_w)
    return width, int(width * rng.uniform(1.4, 1.6))


def _enlargement_source(rng: random.Random, kind: int) -> tuple[int, int, float]:
    """The small picture's size and the enlargement factor for calibration kinds 1-4."""
    factor = rng.uniform(1.5, 3.0)
    if kind in (1, 4):  # well under the minimum
        width = rng.randint(180, int(PHOTO_MIN_WIDTH * 0.87))
        height = min(int(width * rng.uniform(1.4, 1.6)), int(PHOTO_MIN_HEIGHT * 0.87))
        if kind == 4:  # to 1300-2700 px wide: analysed after a 1/2 or 1/4 DCT decode
            factor = rng.uniform(1300, 2700) / width
    elif kind == 2 and rng.random() < 0.3:  # just under the minimum
        width = rng.randint(int(PHOTO_MIN_WIDTH * 0.87) + 1, PHOTO_MIN_WIDTH - 1)
        height = min(int(width * 1.5), PHOTO_MIN_HEIGHT - 1)
    else:  # at least the minimum
        width, height = _portrait(rng, PHOTO_MIN_WIDTH, 700)
        height = max(height, PHOTO_MIN_HEIGHT)
    return width, height, factor


def _enlargement_group(kind: int, share: float, resample: Resampling) -> str:
    if kind == 4:
        return f"enlarged 4-13x from < 87% of min, {resample.name}"
    if share <= 0.87:
        return f"enlarged 1.5-3x from < 87% of min, {resample.name}"
    if share < 1.0:
        return "enlarged 1.5-3x from 87-100% of min (grey zone)"
    if share < 1.2:
        return "enlarged 1.5-3x from 100-120% of min (allowed)"
    return "enlarged 1.5-3x from >= 120% of min (allowed)"


def run_calibration(count: int, seed: int) -> None:
    rng = random.Random(seed)
    backgrounds = [BLUE, RED, WHITE, (20, 90, 200), (255, 255, 255)]
    results: dict[str, list[bool]] = defaultdict(list)
    started = time.perf_counter()
    for index in range(count):
        kind = index % 5
        style = "flat" if rng.random() < 0.3 else "textured"
        texture_strength = 0.1 if style == "flat" else 1.0
        noise = rng.choice([0, 1, 2, 4, 6, 8])
        blur = rng.choice([0.0, 0.0, 0.0, 0.4, 0.6, 0.8])
        quality = rng.choice([70, 75, 80, 85, 90, 95])
        options: dict[str, Any] = {
            "background": rng.choice(backgrounds),
            "seed": seed * 100_000 + index,
            "texture_strength": texture_strength,
        }
        if kind == 0:  # natives of every size, some large (decoded with draft 1/2 or 1/4)
            size = _portrait(rng, 1500, 3000) if rng.random() < 0.15 else _portrait(rng, 413, 1400)
            size = (size[0], max(size[1], PHOTO_MIN_HEIGHT))
            supersample = 1 if size[0] > 1400 else 2
            picture = synth_photo(size, noise=noise, blur=blur, supersample=supersample, **options)
            group = "native"
        else:
            width, height, factor = _enlargement_source(rng, kind)
            resample = FILTERS[index // 5 % len(FILTERS)]
            target = (round(width * factor), round(height * factor))
            if target[0] < PHOTO_MIN_WIDTH or target[1] < PHOTO_MIN_HEIGHT:
                continue
            small = synth_photo((width, height), noise=noise, blur=blur, **options)
            picture = small.resize(target, resample)
            share = min(width / PHOTO_MIN_WIDTH, height / PHOTO_MIN_HEIGHT)
            group = _enlargement_group(kind, share, resample)
        measure = photo_upscale_measure(jpeg_bytes(picture, quality))
        if measure is None:
            continue
        if group.startswith("native") or "allowed" in group:
            sharpness = "soft" if blur > 0.6 else "sharp"
            group = f"{group} [{style}, {sharpness}]"
        results[group].append(measure.suspected)
        if "< 87%" in group:
            results[group.split(",")[0] + ", all filters"].append(measure.suspected)
    elapsed = time.perf_counter() - started
    print(f"seed {seed}, {sum(map(len, results.values()))} pictures, {elapsed:.0f} s")
    print("natives and allowed enlargements split by source: textured/flat (full fractal")
    print("texture on skin, hair, clothes, or 10% of it, 'studio'); sharp/soft (Gaussian")
    print("blur <= 0.6 px or 0.8 px, before any enlargement)")
    print(f"{'group':76s} {'n':>4s} {'flagged':>8s}")
    for group in sorted(results):
        flags = results[group]
        print(f"{group:76s} {len(flags):4d} {sum(flags) / len(flags):8.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="measure the upscale heuristic")
    parser.add_argument("--count", type=int, default=480, help="pictures for --calibrate")
    parser.add_argument("--seed", type=int, default=7, help="random seed for --calibrate")
    parser.add_argument("--repeats", type=int, default=30, help="timed runs for the benchmark")
    args = parser.parse_args()
    if args.calibrate:
        run_calibration(args.count, args.seed)
    else:
        run_benchmark(args.repeats)


if __name__ == "__main__":
    main()
