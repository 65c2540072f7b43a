"""Behaviour of pmc_pipeline.images on real corpus images and on generated edge cases."""

from __future__ import annotations

import hashlib
import io
import itertools
import resource
import statistics
import struct
import sys
import warnings
import zlib
from pathlib import Path

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageFile

from pmc_pipeline.images import (
    DHASH_METHOD,
    PHASH_METHOD,
    ImageDecompressionBombError,
    ImageEmptyError,
    ImageError,
    ImageTooSmallError,
    ImageTruncatedError,
    ImageUnreadableError,
    NormalisedImage,
    dhash64,
    hamming,
    normalise_image,
    phash64,
)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".webp"}
RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


# ---------------------------------------------------------------- helpers


def encode(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def reopen(out: NormalisedImage) -> Image.Image:
    """The output as any consumer sees it; checks the invariants every output must meet."""
    im = Image.open(io.BytesIO(out.jpeg))
    im.load()
    assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (out.width, out.height))
    assert max(im.size) <= 1024
    assert out.sha256 == hashlib.sha256(out.jpeg).hexdigest()
    assert 0 <= out.phash < 2**64 and 0 <= out.dhash < 2**64
    return im


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(pixel, colour, strict=True))


def gradient(w: int, h: int) -> Image.Image:
    """A smooth RGB image: compresses like a figure, unlike noise."""
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
    rgb = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=-1).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


def png_1bit(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG built row by row, never holding the pixels in memory."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row * min(1000, height - i)) for i in range(0, height, 1000))
    idat += z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def corpus_images(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


# ---------------------------------------------------------------- real corpus


def test_every_corpus_image_becomes_rgb_jpeg_or_too_small(corpus_dir: Path) -> None:
    paths = corpus_images(corpus_dir)
    assert len(paths) >= 120  # 115 article images + the 5 _dedupe hi-res copies
    too_small = []
    for path in paths:
        data = path.read_bytes()
        with Image.open(path) as src:
            size = src.size
        if min(size) < 32:
            with pytest.raises(ImageTooSmallError, match=r"below min_side=32"):
                normalise_image(data)
            too_small.append(path.name)
            continue
        out = normalise_image(data)
        reopen(out)
        assert (out.orig_width, out.orig_height, out.orig_bytes) == (*size, len(data))
        if path.suffix == ".jpg" and max(size) <= 1024:
            assert out.jpeg == data, f"{path} fits and is plain RGB JPEG: must be kept as is"
        if max(size) > 1024:
            assert max(out.width, out.height) == 1024
    # 9 one-line formula PNGs (17 px high) and the 100x31 PMC thumbnail .gif
    assert len(too_small) == 10 and "1756-0500-5-615-2.gif" in too_small


def test_min_side_is_a_parameter(corpus_dir: Path) -> None:
    data = (corpus_dir / "PMC3532326" / "1756-0500-5-615-2.gif").read_bytes()
    out = normalise_image(data, min_side=16)
    assert (out.orig_format, out.width, out.height) == ("GIF", 100, 31)


def test_phash64_matches_imagehash_bit_for_bit(corpus_dir: Path) -> None:
    for path in corpus_images(corpus_dir):
        with Image.open(path) as im:
            rgb = im.convert("RGB")
        assert phash64(rgb) == int(str(imagehash.phash(rgb)), 16), path
        assert dhash64(rgb) == int(str(imagehash.dhash(rgb)), 16), path


def test_output_hashes_are_those_of_the_output_pixels(corpus_dir: Path) -> None:
    """Hashes come from a fast thumbnail; they stay within noise of imagehash of the output."""
    for path in corpus_images(corpus_dir):
        try:
            out = normalise_image(path.read_bytes())
        except ImageError:
            continue
        im = reopen(out)
        assert hamming(out.phash, int(str(imagehash.phash(im)), 16)) <= 6, path
        assert out.gray_std > 1.0, path


def test_blank_image_has_no_spread() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (255, 255, 255)).save(buf, "PNG")
    assert normalise_image(buf.getvalue()).gray_std < 0.5


def test_hires_copies_are_near_duplicates(corpus_dir: Path) -> None:
    hires = sorted((corpus_dir / "_dedupe" / "elife-30274-v1-hires").glob("*.jpg"))
    assert len(hires) == 5
    for big in hires:
        a = normalise_image(big.read_bytes())
        b = normalise_image((corpus_dir / "elife-30274-v1" / big.name).read_bytes())
        assert a.orig_width > b.orig_width
        assert hamming(a.phash, b.phash) <= 4, big.name  # dedupe matches on pHash
        assert hamming(a.dhash, b.dhash) <= 8, big.name  # dHash reacts more to resampling


def test_different_corpus_figures_are_far_apart(corpus_dir: Path) -> None:
    outs = []
    for path in corpus_images(corpus_dir):
        if "_dedupe" in path.parts:
            continue
        try:
            outs.append(normalise_image(path.read_bytes()))
        except ImageTooSmallError:
            continue
    dist = [hamming(a.phash, b.phash) for a, b in itertools.combinations(outs, 2)]
    assert statistics.median(dist) > 20
    assert sum(d <= 4 for d in dist) / len(dist) < 0.01  # a few real thumbnail/figure pairs


# ---------------------------------------------------------------- modes and formats


def test_fitting_rgb_jpeg_is_kept_byte_for_byte() -> None:
    for kw in ({}, {"progressive": True}):
        data = encode(gradient(300, 200), "JPEG", quality=80, **kw)
        out = normalise_image(data)
        assert out.jpeg == data and (out.width, out.height) == (300, 200)


def test_large_jpeg_is_decoded_reduced_and_fit_to_max_side() -> None:
    data = encode(gradient(4000, 3000), "JPEG", quality=85)
    out = normalise_image(data)
    im = reopen(out)
    assert im.size == (1024, 768) and (out.orig_width, out.orig_height) == (4000, 3000)
    assert normalise_image(data, max_side=500).width == 500


def test_exif_rotation_is_applied() -> None:
    src = Image.new("RGB", (200, 100), RED)
    src.paste(BLUE, (0, 0, 100, 100))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs 90 degrees clockwise
    data = encode(src, "JPEG", exif=exif.tobytes(), quality=95)
    out = normalise_image(data)
    im = reopen(out)
    assert out.jpeg != data and im.size == (100, 200)
    assert near(im.getpixel((50, 20)), BLUE) and near(im.getpixel((50, 180)), RED)


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = encode(Image.new("CMYK", (120, 80), (0, 255, 255, 0)), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    im = reopen(normalise_image(data))
    assert near(im.getpixel((60, 40)), RED)


def test_grayscale_jpeg_becomes_rgb() -> None:
    data = encode(gradient(200, 100).convert("L"), "JPEG")
    out = normalise_image(data)
    assert out.jpeg != data and reopen(out).mode == "RGB"


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16bit_grayscale_is_stretched_not_clipped(fmt: str) -> None:
    values = np.linspace(1000, 5000, 256, dtype=np.uint16)  # a 12-bit scan inside 16 bits
    src = Image.fromarray(np.tile(values, (64, 1)))  # uint16 -> mode "I;16"
    data = encode(src, fmt)
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    im = reopen(normalise_image(data)).convert("L")
    row = np.asarray(im)[32]
    assert row[:4].max() < 15 and row[-4:].min() > 240  # full 0-255 range used
    assert np.all(np.diff(row.astype(int)[4:-4]) >= -6)  # still a ramp (JPEG noise allowed)


def test_palette_png_transparency_becomes_white() -> None:
    src = Image.new("P", (100, 100), 0)
    src.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    src.paste(1, (50, 0, 100, 100))
    data = encode(src, "PNG", transparency=0)
    im = reopen(normalise_image(data))
    assert near(im.getpixel((10, 50)), WHITE) and near(im.getpixel((90, 50)), BLUE)


def test_rgba_png_transparent_pixel_becomes_white() -> None:
    src = Image.new("RGBA", (100, 100), (255, 0, 0, 0))
    src.paste((0, 0, 255, 255), (50, 0, 100, 100))
    im = reopen(normalise_image(encode(src, "PNG")))
    assert near(im.getpixel((10, 50)), WHITE, tol=3) and near(im.getpixel((90, 50)), BLUE)


def test_la_png_is_composited_on_white() -> None:
    src = Image.new("LA", (100, 100), (0, 0))
    src.paste((0, 255), (50, 0, 100, 100))
    im = reopen(normalise_image(encode(src, "PNG")))
    assert near(im.getpixel((10, 50)), WHITE, tol=3) and near(im.getpixel((90, 50)), (0, 0, 0))


def test_multiframe_tiff_and_gif_use_the_first_frame() -> None:
    frames = [Image.new("RGB", (80, 60), RED), Image.new("RGB", (80, 60), BLUE)]
    for fmt in ("TIFF", "GIF"):
        data = encode(frames[0], fmt, save_all=True, append_images=frames[1:])
        assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2
        assert near(reopen(normalise_image(data)).getpixel((40, 30)), RED), fmt


def test_1bit_tiff_becomes_rgb() -> None:
    src = Image.new("1", (64, 64), 0)
    src.paste(1, (32, 0, 64, 64))
    im = reopen(normalise_image(encode(src, "TIFF", compression="group4")))
    assert near(im.getpixel((10, 10)), (0, 0, 0)) and near(im.getpixel((50, 10)), WHITE)


def test_webp_becomes_jpeg() -> None:
    out = normalise_image(encode(gradient(160, 120), "WEBP", quality=90))
    assert out.orig_format == "WEBP" and reopen(out).size == (160, 120)


def test_output_is_deterministic() -> None:
    data = encode(gradient(700, 1500), "PNG")
    assert normalise_image(data) == normalise_image(data)


# ---------------------------------------------------------------- rejects


def test_empty_file() -> None:
    with pytest.raises(ImageEmptyError, match="0 bytes"):
        normalise_image(b"")


def test_random_bytes_and_unsupported_formats() -> None:
    rng = np.random.default_rng(0)
    for data in (rng.bytes(5000), b"%!PS-Adobe-3.0 EPSF-3.0\n" + rng.bytes(500)):
        with pytest.raises(ImageUnreadableError, match="not a readable image"):
            normalise_image(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file_is_rejected_not_half_decoded(fmt: str) -> None:
    data = encode(gradient(400, 300), fmt)
    with pytest.raises(ImageTruncatedError, match="truncated"):
        normalise_image(data[: len(data) // 2])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_corrupt_png_header_is_unreadable() -> None:
    data = bytearray(encode(gradient(400, 300), "PNG"))
    data[20] ^= 0xFF  # inside IHDR: its CRC no longer matches
    with pytest.raises(ImageUnreadableError, match="not a readable image"):
        normalise_image(bytes(data))


def test_decompression_bomb_is_refused_before_decoding() -> None:
    data = png_1bit(30000, 30000)  # 900 Mpx; decoded as mode "1" it would take 900 MB
    assert len(data) < 1_000_000
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for max_pixels in (100_000_000, 10**12):  # Pillow's own hard limit applies to both
        with pytest.raises(ImageDecompressionBombError, match="decompression bomb"):
            normalise_image(data, max_pixels=max_pixels)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown * (1 if sys.platform == "darwin" else 1024) < 200 * 2**20


def test_pillow_bomb_warning_is_an_error_locally_only() -> None:
    data = png_1bit(10000, 10000)  # 100 Mpx: over Pillow's warning limit, under its error limit
    filters = list(warnings.filters)
    with pytest.raises(ImageDecompressionBombError, match="Pillow"):
        normalise_image(data, max_pixels=10**9)
    assert warnings.filters == filters


def test_own_pixel_limit() -> None:
    with pytest.raises(ImageDecompressionBombError, match=r"200x200 = 40000 px"):
        normalise_image(encode(gradient(200, 200), "PNG"), max_pixels=10_000)


def test_too_small() -> None:
    with pytest.raises(ImageTooSmallError, match=r"40x20 px.*min_side=32"):
        normalise_image(encode(gradient(40, 20), "PNG"))


def test_errors_are_value_errors() -> None:
    for cls in (ImageEmptyError, ImageUnreadableError, ImageTruncatedError, ImageTooSmallError):
        assert issubclass(cls, ImageError) and issubclass(cls, ValueError)
    assert issubclass(ImageDecompressionBombError, ImageError)


# ---------------------------------------------------------------- hashes


def test_hash_bit_order_and_blank_image() -> None:
    im = gradient(64, 64)
    assert f"{phash64(im):016x}" == str(imagehash.phash(im))
    assert f"{dhash64(im):016x}" == str(imagehash.dhash(im))
    # a constant image: only the DC term exceeds the median; ties never depend on FFT noise
    assert phash64(Image.new("RGB", (50, 50), (200, 200, 200))) == 1 << 63
    assert dhash64(Image.new("L", (50, 50), 7)) == 0


def test_hamming() -> None:
    assert hamming(0, 0) == 0 and hamming(0, 2**64 - 1) == 64 and hamming(0b1010, 0b0110) == 2


def test_methods_are_documented() -> None:
    assert PHASH_METHOD.startswith("phash-dct-8x8-from-32x32-gray")
    assert DHASH_METHOD.startswith("dhash-8x8-horizontal")
