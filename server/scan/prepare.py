"""The preprocessings a decoding step may run on the working image before an engine reads it.

`PREPARE` is the menu `tests/benchmarks/bench_decode.py --select` chooses the cascade's steps from;
not all of it is shipped (docs/scanning.md, also for what was tried and left out). Each
entry says whether it already makes the image black and white (then zxing-cpp's own binarizer has
nothing left to decide, and its reads count as a binarization of their own); `back` maps a point
of the prepared copy onto the working image, so that reads of one symbol on different copies meet
in one place for the trust rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageFilter, ImageOps

Point = tuple[float, float]


def local_threshold(gray: Image.Image) -> Image.Image:
    """Black where a pixel is darker than the mean of its neighbourhood (1/16 of the short side):
    survives shadows and uneven light that defeat one global threshold."""
    radius = max(4, min(gray.size) // 16)
    mean = gray.filter(ImageFilter.BoxBlur(radius))
    return ImageChops.subtract(gray, mean, 1, 128).point(lambda value: 255 if value >= 126 else 0)


def otsu_threshold(gray: Image.Image) -> Image.Image:
    """One global threshold that best separates the histogram into two classes (Otsu 1979)."""
    histogram = gray.histogram()
    total, weighted = sum(histogram), sum(i * count for i, count in enumerate(histogram))
    below = below_weighted = 0
    best, threshold = -1.0, 128
    for level, count in enumerate(histogram):
        below += count
        below_weighted += level * count
        above = total - below
        if below == 0 or above == 0:
            continue
        spread = below * above * (below_weighted / below - (weighted - below_weighted) / above) ** 2
        if spread > best:
            best, threshold = spread, level
    return gray.point(lambda value: 255 if value > threshold else 0)


def gamma(value: float) -> Callable[[Image.Image], Image.Image]:
    """Grey levels raised to `value` (over 1 darkens the mid-tones: faint or glared bars)."""
    table = [round(255 * (level / 255) ** value) for level in range(256)]
    return lambda gray: gray.point(table)


@dataclass(frozen=True, slots=True)
class Prepare:
    function: Callable[[Image.Image], Image.Image]
    binarized: bool = False  # it already makes the image black and white

    @staticmethod
    def back(gray: Image.Image, image: Image.Image) -> Callable[[Point], Point]:
        """Maps a point of the prepared `image` (the working image `gray` scaled) onto `gray`."""
        sx, sy = image.width / gray.width, image.height / gray.height
        return lambda point: (point[0] / sx, point[1] / sy)


# name → how to make it; the cascade in decode.py uses some of these
PREPARE: dict[str, Prepare] = {
    "gray": Prepare(lambda gray: gray),
    "autocontrast": Prepare(lambda gray: ImageOps.autocontrast(gray, cutoff=1)),
    "sharpen": Prepare(lambda gray: gray.filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=3))),
    "equalize": Prepare(ImageOps.equalize),
    "gamma_dark": Prepare(gamma(2.0)),
    "invert": Prepare(ImageOps.invert),
    "half": Prepare(lambda gray: gray.reduce(2)),
    "double": Prepare(lambda gray: gray.resize((gray.width * 2, gray.height * 2), Image.BICUBIC)),
    "local_threshold": Prepare(local_threshold, binarized=True),
    "otsu_threshold": Prepare(otsu_threshold, binarized=True),
}
