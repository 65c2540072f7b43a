"""Decode, validate and normalise figure images to RGB JPEG, and hash them (pure: bytes in).

Why this module exists: PMC ships TIFF (multi-frame, 16-bit, CMYK), PNG (palette, alpha,
16-bit), GIF, progressive/CMYK JPEG and WebP, while training code wants one thing: an RGB
JPEG of bounded size. Bad input raises a subclass of :class:`ImageError` whose message says
what is wrong and which limit applies; the extract stage turns it into an error row.

Hashes are computed from the normalised image before JPEG encoding, from one 32x32 LANCZOS
grayscale thumbnail (Pillow ``convert("L")``), so nothing is decoded twice. The pHash equals
``imagehash.phash`` (4.3) of that image bit for bit (checked on every corpus image in the
tests); the dHash is ``imagehash.dhash`` of the 32x32 thumbnail, which is cheaper than
imagehash's own 9x8 resize of the full image and differs from it by a few bits. Bits are
row-major with the first coefficient/comparison as the most significant bit (the order of
imagehash's hex string). Rehashing a stored, re-encoded JPEG gives the same hash up to JPEG
noise (at most 2 bits pHash on the corpus).
"""

from __future__ import annotations

import hashlib
import io
import struct
import threading
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.fft
from PIL import ExifTags, Image, ImageFile, ImageOps

PHASH_METHOD = (
    "phash-dct-8x8-from-32x32-gray-v2: grayscale (kept JPEGs decoded by libjpeg DCT scaling to "
    ">= 64 px), box-reduce + LANCZOS to 32x32, 2-D DCT-II (unnormalised, axis 0 then 1), "
    "top-left 8x8 incl. DC > its median, row-major, MSB first (imagehash.phash's definition; "
    "within ~2 bits of imagehash.phash of the full image)"
)
PHASH_CROP_METHOD = (
    "phash-crop-2pct-v1: the pHash method on the same grayscale image with 2% of each side cut "
    "off; a copy cropped by about that much hashes like it (dedupe compares both)"
)
DHASH_METHOD = (
    "dhash-8x8-horizontal-from-32x32-gray-v2: the pHash 32x32 gray thumbnail, LANCZOS resize "
    "to 9x8 (w x h), pixel[r][c+1] > pixel[r][c], row-major, MSB first"
)

# Formats PMC actually ships. Limiting Image.open keeps Pillow from reaching plugins that
# run external programs (EPS -> Ghostscript) or parse exotic containers on untrusted bytes.
SUPPORTED_FORMATS = ("JPEG", "PNG", "TIFF", "GIF", "WEBP", "BMP", "JPEG2000")

# Exceptions Pillow raises on malformed input (its fuzzers see all of these).
DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    ZeroDivisionError,
    struct.error,
)
_WHITE = (255, 255, 255)
_PHASH_SIZE = (32, 32)
CROP_MARGIN = 0.02
_HASH_DECODE_SIZE = (128, 128)  # draft target for kept JPEGs: a 2% crop is still >= 2 px
# Fitting to max_side: box-reduce by whole factors (reducing_gap), then an antialiased
# bilinear pass. On PMC's typical 1.0-1.5x overshoot (600x1140 -> 539x1024) this costs
# half of LANCZOS in Pillow, with no visible difference at CLIP input sizes (224 px).
_FIT_FILTER = Image.Resampling.BILINEAR
_ORIENTATION = ExifTags.Base.Orientation
# JPEG start-of-frame markers whose data every JPEG reader decodes: baseline, extended
# sequential and progressive Huffman. Arithmetic/lossless/hierarchical ones are re-encoded.
_PLAIN_SOF = (0xC0, 0xC1, 0xC2)
_PLAIN_SOF_8BIT = {(marker, 8) for marker in _PLAIN_SOF}
_OTHER_SOF = (0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF)
# warnings.catch_warnings swaps process-wide filters; serialise our own use of it so that
# concurrent calls (Dask threads) cannot restore each other's filters and leave them changed.
_WARNINGS_LOCK = threading.Lock()


class ImageError(ValueError):
    """An image that cannot become a training figure; the message says why."""


class ImageEmptyError(ImageError):
    """The file has zero bytes (a failed download or an empty member of a bundle)."""


class ImageUnreadableError(ImageError):
    """Not a supported image format, or the decoder rejects the data."""


class ImageTruncatedError(ImageError):
    """The pixel data ends early; a half-decoded image is never returned."""


class ImageDecompressionBombError(ImageError):
    """The header declares more pixels than allowed; rejected before allocating them."""


class ImageTooSmallError(ImageError):
    """A side is below ``min_side``: thumbnails, icons, inline formula images."""


@dataclass(frozen=True)
class NormalisedImage:
    """An RGB JPEG ready for a shard, with what the source was and its hashes."""

    jpeg: bytes
    width: int
    height: int
    orig_format: str
    orig_width: int
    orig_height: int
    orig_bytes: int
    sha256: str
    phash: int
    phash_crop: int  # pHash of the image with CROP_MARGIN cut off each side
    dhash: int
    gray_std: float  # spread of the 32x32 hash thumbnail: ~0 for blank images


def normalise_image(
    data: bytes,
    *,
    max_side: int = 1024,
    quality: int = 90,
    min_side: int = 32,
    max_pixels: int = 100_000_000,
) -> NormalisedImage:
    """Turn image file bytes into an RGB JPEG whose longer side is at most ``max_side``.

    ``min_side=32`` keeps all 73 corpus images a ``<fig>`` references (the smallest side is
    157 px) and rejects one-line formula images (17 px high) and PMC ``.gif`` thumbnails with
    a side under 32 px (the 100x31 one). Other 100 px-wide thumbnails pass: dropping them is
    the job of JATS resolution, since no ``<fig>`` references them.

    ``max_pixels`` is checked on the header before decoding. Pillow's own guard
    (``Image.MAX_IMAGE_PIXELS``, about 89.5 M by default) applies too, raised as an error,
    so the effective limit is the smaller of the two.

    A JPEG that already fits and is plain 8-bit RGB (baseline or progressive Huffman, no EXIF
    rotation) is kept byte for byte; everything else is encoded at ``quality`` with 4:2:0
    chroma subsampling, baseline, no optimisation (deterministic for a given Pillow).
    """
    if not data:
        raise ImageEmptyError("image file is empty (0 bytes)")
    im = _open(data, max_pixels)
    orig_w, orig_h = im.size
    if min(orig_w, orig_h) < min_side:
        raise ImageTooSmallError(
            f"image is {orig_w}x{orig_h} px, a side is below min_side={min_side} px "
            "(thumbnail, icon or inline formula)"
        )
    fmt = im.format or "unknown"
    orientation = _orientation(im)
    target = fit_size(orig_w, orig_h, max_side)
    keep = target == (orig_w, orig_h) and orientation == 1 and _is_plain_rgb_jpeg(im, data)
    if keep:
        # The bytes are kept, so only the hashes need pixels: let libjpeg decode a small
        # grayscale image (DCT scaling still reads, and so checks, the whole stream).
        im.draft("L", _HASH_DECODE_SIZE)
        _load(im)
        gray, (width, height), jpeg = _gray(im), (orig_w, orig_h), data
    else:
        if fmt == "JPEG" and target != (orig_w, orig_h):
            im.draft("RGB", target)  # decode at 1/2, 1/4 or 1/8 scale in libjpeg (far faster)
        _load(im)
        rgb = _to_rgb(_apply_orientation(im, orientation))
        if orientation in (5, 6, 7, 8):
            target = (target[1], target[0])
        if rgb.size != target:
            rgb = rgb.resize(target, _FIT_FILTER, reducing_gap=2.0)
        gray, (width, height), jpeg = _gray(rgb), rgb.size, encode_jpeg(rgb, quality)
    thumb = hash_thumbnail(gray)
    return NormalisedImage(
        jpeg=jpeg,
        width=width,
        height=height,
        orig_format=fmt,
        orig_width=orig_w,
        orig_height=orig_h,
        orig_bytes=len(data),
        sha256=hashlib.sha256(jpeg).hexdigest(),
        phash=phash64(thumb),
        phash_crop=phash64(hash_thumbnail(inner_crop(gray))),
        dhash=dhash64(thumb),
        gray_std=float(np.asarray(thumb, dtype=np.float32).std()),
    )


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes."""
    return (a ^ b).bit_count()


def hash_thumbnail(gray: Image.Image) -> Image.Image:
    """The 32x32 grayscale image both hashes read: box-reduce, then LANCZOS.

    ``reducing_gap`` makes Pillow box-average down to about twice the size first, so a
    1024 px image costs a few hundred microseconds rather than a full LANCZOS pass.
    """
    return gray.resize(_PHASH_SIZE, Image.Resampling.LANCZOS, reducing_gap=2.0)


def inner_crop(img: Image.Image, margin: float = CROP_MARGIN) -> Image.Image:
    """``img`` without ``margin`` of its width and height on each side.

    Reposted figures are often trimmed a little; pHash moves several bits under a 2% crop
    (PMC's own copies differ by 0-2). Hashing this crop too lets dedupe pair an image with
    a trimmed copy of it without loosening the distance for everything else.
    """
    dx, dy = round(img.width * margin), round(img.height * margin)
    return img.crop((dx, dy, img.width - dx, img.height - dy)) if dx or dy else img


def phash64(img: Image.Image) -> int:
    """imagehash.phash as an unsigned 64-bit int (see ``PHASH_METHOD``)."""
    small = _gray(img).resize(_PHASH_SIZE, Image.Resampling.LANCZOS)  # no-op if already 32x32
    dct = scipy.fft.dct(scipy.fft.dct(np.asarray(small, dtype=np.float64), axis=0), axis=1)
    # Rounding makes exact ties (blank images: every AC term is 0) immune to FFT rounding
    # noise, so the bits do not depend on the machine's FFT kernels.
    low = np.round(dct[:8, :8], 6)
    return _bits_to_int(low > np.median(low))


def dhash64(img: Image.Image) -> int:
    """imagehash.dhash as an unsigned 64-bit int (see ``DHASH_METHOD``)."""
    px = np.asarray(_gray(img).resize((9, 8), Image.Resampling.LANCZOS), dtype=np.int16)
    return _bits_to_int(px[:, 1:] > px[:, :-1])


def _bits_to_int(bits: np.ndarray) -> int:
    """Pack a boolean array row-major, first element as the most significant bit."""
    return int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big")


def _gray(img: Image.Image) -> Image.Image:
    return img if img.mode == "L" else img.convert("L")


def _open(data: bytes, max_pixels: int) -> ImageFile.ImageFile:
    """Parse the header only (Pillow is lazy) and refuse oversized images before decoding."""
    try:
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecompressionBombError(f"decompression bomb refused by Pillow: {exc}") from exc
    except DECODE_ERRORS as exc:
        raise ImageUnreadableError(
            f"not a readable image (supported: {', '.join(SUPPORTED_FORMATS)}): {exc}"
        ) from exc
    w, h = im.size
    if w * h > max_pixels:
        raise ImageDecompressionBombError(
            f"image header declares {w}x{h} = {w * h} px, over max_pixels={max_pixels} "
            "(decompression bomb guard)"
        )
    return im


def _load(im: ImageFile.ImageFile) -> None:
    """Decode all pixel data; a short file is an error, never a partly grey image."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    try:
        im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecompressionBombError(f"decompression bomb refused by Pillow: {exc}") from exc
    except DECODE_ERRORS as exc:
        if "truncated" in str(exc).lower():
            raise ImageTruncatedError(f"image data is truncated: {exc}") from exc
        raise ImageUnreadableError(f"cannot decode {im.format} image: {exc}") from exc


def fit_size(w: int, h: int, max_side: int) -> tuple[int, int]:
    """Size with the longer side at most ``max_side``, aspect ratio kept."""
    longest = max(w, h)
    if longest <= max_side:
        return w, h
    scale = max_side / longest
    return max(1, round(w * scale)), max(1, round(h * scale))


def _orientation(im: Image.Image) -> int:
    """EXIF orientation 1-8 (1 = upright)."""
    try:
        value = int(im.getexif().get(_ORIENTATION, 1))
    except (*DECODE_ERRORS, TypeError):
        return 1  # unreadable EXIF: exif_transpose also leaves such an image as it is
    return value if 1 <= value <= 8 else 1


def _apply_orientation(im: Image.Image, orientation: int) -> Image.Image:
    """Rotate/flip as the EXIF tag says, so pixels are upright without reading metadata."""
    return ImageOps.exif_transpose(im) if orientation != 1 else im


def _is_plain_rgb_jpeg(im: Image.Image, data: bytes) -> bool:
    """True for a JPEG every reader shows as-is: 8-bit YCbCr/RGB, baseline/progressive Huffman."""
    return im.format == "JPEG" and im.mode == "RGB" and _jpeg_sof(data) in _PLAIN_SOF_8BIT


def _jpeg_sof(data: bytes) -> tuple[int, int] | None:
    """(SOF marker, sample precision) of a JPEG, found by walking its marker segments."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _PLAIN_SOF or marker in _OTHER_SOF:
            return (marker, data[pos + 4]) if pos + 4 < len(data) else None
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        if marker == 0xDA:  # start of scan before any SOF: malformed
            return None
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def _to_rgb(im: Image.Image) -> Image.Image:
    """8-bit RGB for any Pillow mode: alpha over white, high bit depths stretched to 0-255."""
    try:
        if im.mode in ("I", "F") or im.mode.startswith("I;16"):
            return _stretch_to_l(im).convert("RGB")
        if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
            rgba = im.convert("RGBA")
            out = Image.new("RGB", im.size, _WHITE)
            out.paste(rgba, mask=rgba.getchannel("A"))
            return out
        return im if im.mode == "RGB" else im.convert("RGB")
    except DECODE_ERRORS as exc:
        raise ImageUnreadableError(f"cannot convert {im.mode} image to RGB: {exc}") from exc


def _stretch_to_l(im: Image.Image) -> Image.Image:
    """Map the image's own value range to 0-255 (16-bit scans often use only 12 bits).

    NaN counts as the minimum and +/-inf as the extremes; a constant image becomes black.
    float32 keeps a 100 Mpx image at 400 MB; its precision is far beyond 8-bit output.
    """
    a = np.asarray(im, dtype=np.float32)
    finite = a[np.isfinite(a)]
    if finite.size == 0 or finite.min() == finite.max():
        return Image.new("L", im.size, 0)
    lo, hi = float(finite.min()), float(finite.max())
    a = np.nan_to_num(a, nan=lo, posinf=hi, neginf=lo)
    return Image.fromarray(np.rint((a - lo) * (255.0 / (hi - lo))).astype(np.uint8), "L")


def encode_jpeg(rgb: Image.Image, quality: int) -> bytes:
    """Our one JPEG encoding (4:2:0, not optimised): figures and panel crops alike."""
    buf = io.BytesIO()
    rgb.save(buf, "JPEG", quality=quality, subsampling="4:2:0", optimize=False)
    return buf.getvalue()
