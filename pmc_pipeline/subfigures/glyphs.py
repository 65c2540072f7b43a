"""Letter and digit shapes in the typefaces figures print, for reading panel letters.

Why: one typeface's shapes read another's badly. A serif "B" matched against Pillow's one
sans face reads as "A", a DejaVu "6" as "b"; so panel letters went unread and tick digits
read as panel letters. The shapes of two serif faces (STIX, Times-like, and Computer
Modern, whose heavier serifs are nearer a slab serif's; each regular and bold) and a second
sans face (Computer Modern Sans) widen what a letter is matched against, both for the
labels and for the rival letters and digits a strict reading must beat.

They are rendered once from the font files matplotlib ships (``make glyphs`` rewrites
``glyphs.npz``; a test checks it still matches) and stored as bitmaps, so the
pipeline needs neither matplotlib nor the fonts. DejaVu, the face the benchmark's
generated figures are drawn in, is left out on purpose: the benchmark then measures how
the reading carries to a face it was not given.
"""

from __future__ import annotations

import functools
import io
import os
import string
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FACES = {
    "stix": "STIXGeneral.ttf",
    "stix-bold": "STIXGeneralBol.ttf",
    "cm-sans": "cmss10.ttf",
    "cm-serif": "cmr10.ttf",
    "cm-bold": "cmb10.ttf",
}
STROKES = (0, 1)  # drawn plain and emboldened by one pixel (figures print bold letters too)
CHARS = string.ascii_letters + string.digits
PX = 40  # size the shapes are rendered at; matching normalises every shape to one size
STORE = Path(__file__).with_name("glyphs.npz")


def render(
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str, stroke: int
) -> np.ndarray:
    """A character's ink (bool, cropped to it), drawn white on black at ``stroke``."""
    im = Image.new("L", (2 * PX, 2 * PX), 0)
    ImageDraw.Draw(im).text(
        (PX // 2, PX // 4), char, fill=255, font=font, stroke_width=stroke, stroke_fill=255
    )
    a = np.asarray(im) >= 128
    ys, xs = np.nonzero(a)
    return a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


@functools.cache
def _stored() -> dict[str, np.ndarray]:
    with np.load(STORE, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def shapes(char: str) -> list[np.ndarray]:
    """The stored shapes of one character (every face and stroke); [] for other characters."""
    stored = _stored()
    return [stored[k] for face in FACES for s in STROKES if (k := _key(face, s, char)) in stored]


def _key(face: str, stroke: int, char: str) -> str:
    return f"{face}_{stroke}_{ord(char)}"


def rendered(font_dir: Path) -> dict[str, np.ndarray]:
    """Every face's shapes, drawn from the font files in ``font_dir``."""
    out = {}
    for face, file in FACES.items():
        font = ImageFont.truetype(str(font_dir / file), PX)
        for stroke in STROKES:
            out |= {_key(face, stroke, c): render(font, c, stroke) for c in CHARS}
    return out


def matplotlib_fonts() -> Path:
    """Where matplotlib keeps its font files (it is a test dependency, not a pipeline one)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def write(shapes_by_key: dict[str, np.ndarray], path: Path = STORE) -> None:
    """Store the shapes, atomically."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **shapes_by_key)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)
