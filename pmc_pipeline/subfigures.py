"""Split compound figures into panels paired with their own sub-captions (pure: image in, rows out).

Why: about half of PMC figures are compound; a panel paired with the part of the caption that
describes it is a sharper training pair than the whole figure with the whole caption. Learned
panel detectors have no offline weights, so the default splitter is classical and runs anywhere:
recursive XY-cut on background gutters and separator lines, straight seams between abutting
photographs, and rules that fold slivers (titles, axis labels, legends, colour bars, lone panel
letters) back into their neighbour. When unsure it keeps the figure whole. A learned detector
can replace the classical one through :func:`load_detector` (local files only, never downloads).

Caption splitting finds panel labels ("(A)", "A.", "a ", "(a-c)", "(A and B)", "B1", "(ii)",
"Left:", bold labels passed by the extract stage), keeps only labels that form a sequence from
A (so "vitamin A", "(A549 cells)", "p < 0.05" or units are not labels), and gives every label
the caption preamble plus its own part, so each panel's text stands alone.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from pmc_pipeline.images import (
    SUPPORTED_FORMATS,
    ImageUnreadableError,
    dhash64,
    hash_thumbnail,
    phash64,
)
from pmc_pipeline.keys import panel_key

__all__ = [
    "Box",
    "CaptionSplit",
    "Detector",
    "DetectorError",
    "PanelResult",
    "align",
    "find_panels",
    "load_detector",
    "panel_rows",
    "split_caption",
]

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive
Span = tuple[int, int]  # [start, end) of lines along one axis
Detector = Callable[[Image.Image], list[Box]]


class DetectorError(ValueError):
    """A learned detector could not be loaded, or returned something that is not boxes."""


# ----------------------------------------------------------------------------------------------
# Sub-caption splitting
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptionSplit:
    """A caption cut into the text shared by all panels and one text per panel label.

    ``items`` holds ``(label, text)`` in label order; ``text`` is the preamble plus the label's
    own part, so it stands alone. No items means the caption names fewer than two panels.
    """

    caption: str
    preamble: str
    items: list[tuple[str, str]]

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.items]


_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii")
_ROMAN_RE = r"(?:viii|vii|vi|iv|ix|xii|xi|x|v|iii|ii|i)"
_ATOM = rf"(?:{_ROMAN_RE}|[A-Za-z]\d{{0,2}}['\u2032]?)(?![A-Za-z0-9])"
_POS_WORD = r"(?:left|right|top|bottom|middle|upper|lower|cent(?:er|re))"
_POSITION = rf"(?:(?:top|bottom|upper|lower|middle)[ -])?{_POS_WORD}(?:\s+(?:panels?|row|column))?"
_SEP = r"\s*(?:,\s*and|,|and|&|to|[-\u2013\u2014\u2212/])\s*"
_EXPR = rf"(?:panels?\s+)?{_ATOM}(?:{_SEP}(?:panels?\s+)?{_ATOM})*"
_RANGE_SEP = re.compile(r"^\s*(?:to|[-\u2013\u2014\u2212])\s*$", re.I)
_EXPR_FULL = re.compile(rf"\s*{_EXPR}\s*", re.I)
_POSITION_FULL = re.compile(rf"\s*{_POSITION}\s*", re.I)
_PAREN = re.compile(r"\(([^()]{1,80})\)")
_PAREN_LEAD = re.compile(rf"\s*({_EXPR})\s*,\s*\S", re.I)
_PAREN_TAIL = re.compile(rf".*,\s*({_EXPR})\s*$", re.I)
# Bare labels: "A)" / "A-C)", "A." / "A:" / "A," before a space, "a Clear ..." (letter, space,
# capitalised word), "Left:" and "Figure 1A." at the start of a sentence.
_BARE = re.compile(
    rf"(?<![\w(\u2013\u2014-])(?P<e>{_EXPR})(?:(?P<paren>\))|(?P<punct>[.:,])(?=\s|$)"
    rf"|(?P<space>\s)(?=[A-Z0-9]))",
    re.I,
)
_BARE_POSITION = re.compile(rf"(?<!\w)(?P<e>{_POSITION})\s*:", re.I)
_FIG_PREFIX = re.compile(rf"(?<!\w)fig(?:ure)?s?\.?\s*\d+\s*(?P<e>{_EXPR})\s*[.:)]?", re.I)
_FIG_REF_BEFORE = re.compile(r"fig(?:ure)?s?\.?\s*\d+\s*[\[(]?\s*$", re.I)
_SENTENCE_END = re.compile(r"(?<![\s(][A-Za-z])[.;!?](?=\s)|;")
_LEAD_JUNK = re.compile(r"^[\s,;:.)\]]+|^(?:and|or)\s+", re.I)
_TAIL_JUNK = re.compile(r"(?:[\s,;:(\[]+|\s+(?:and|or|in|of))+$", re.I)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class _Marker:
    """A label mention in the caption: where it is and the labels it names."""

    start: int
    end: int
    labels: tuple[str, ...]  # normalised: "A", "B1", "II", "LEFT"
    bare: bool  # not in parentheses: only ever a prefix label


def split_caption(caption: str, markup_labels: list[str] | None = None) -> CaptionSplit:
    """Cut a figure caption into a shared preamble and one sub-caption per panel label.

    ``markup_labels`` are label texts the caption marked up (JATS ``<bold>A</bold>``) in
    caption order; when given they are trusted and located in the text instead of guessed.
    """
    text = " ".join(caption.split())
    if markup_labels:
        markers = _markup_markers(text, markup_labels)
    else:
        markers = _accept_sequence(_find_markers(text))
    groups = _group_markers(text, markers)
    if len({label for g in groups for label in g.labels}) < 2:
        return CaptionSplit(caption=text, preamble=text, items=[])
    preamble, parts = _assign_text(text, groups)
    items = [
        (label, _join(preamble, " ".join(parts[label])))
        for label in sorted(parts, key=_label_order(groups))
    ]
    return CaptionSplit(caption=text, preamble=preamble, items=items)


def _find_markers(text: str) -> list[_Marker]:
    """Every place the caption may name panels; false ones are dropped by sequence later."""
    found: list[_Marker] = []
    for m in _PAREN.finditer(text):
        labels = _paren_labels(m.group(1))
        if labels and not _FIG_REF_BEFORE.search(text[: m.start()]):
            found.append(_Marker(m.start(), m.end(), labels, bare=False))
    for m in _FIG_PREFIX.finditer(text):
        if _at_sentence_start(text, m.start()):
            found.append(_Marker(m.start(), m.end(), _parse_expr(m.group("e")), bare=True))
    for m in _BARE_POSITION.finditer(text):
        if _at_sentence_start(text, m.start()):
            found.append(_Marker(m.start(), m.end(), (_norm_position(m.group("e")),), bare=True))
    for m in _BARE.finditer(text):
        if _bare_ok(text, m):
            found.append(_Marker(m.start(), m.end(), _parse_expr(m.group("e")), bare=True))
    return _drop_overlaps(found)


def _paren_labels(body: str) -> tuple[str, ...]:
    """Labels of a parenthesis: "(A)", "(a-c)", "(B and D)", "(C, in red)", "(anti-CD34, E-H)"."""
    if _EXPR_FULL.fullmatch(body):
        return _parse_expr(body)
    for pattern in (_PAREN_LEAD, _PAREN_TAIL):
        m = pattern.match(body)
        if m and len(m.group(1).strip()) <= 5:
            return _parse_expr(m.group(1))
    return ()


def _bare_ok(text: str, m: re.Match) -> bool:
    """Whether a label without parentheses really starts a panel's text."""
    before = text[: m.start()].rstrip()
    single = len(_parse_expr(m.group("e"))) == 1 and len(m.group("e").strip()) == 1
    if m.group("paren"):  # "A)", "(B) and C)"
        return not before or before[-1] in ".;:,)" or bool(re.search(r"\b(?:and|or)$", before))
    if not _at_sentence_start(text, m.start()):
        return False
    if m.group("space"):  # "a Clear cell ..." but not "a consecutive area"
        return single
    if m.group("punct") == "." and not single:
        return False
    after = text[m.end() :].lstrip()
    return not (m.group("punct") == "." and after[:1].islower())  # "E. coli"


def _at_sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in ".;:!?"


def _parse_expr(expr: str) -> tuple[str, ...]:
    """ "A-C" -> A, B, C; "B and D" -> B, D; "panels i-iii" -> I, II, III; "B1" -> B1."""
    expr = re.sub(r"panels?\s+", "", expr, flags=re.I)
    pieces = re.split(rf"({_SEP})", expr, flags=re.I)
    atoms, seps = pieces[0::2], pieces[1::2]
    out: list[str] = [atoms[0].strip()]
    for sep, atom in zip(seps, atoms[1:], strict=True):
        atom = atom.strip()
        if _RANGE_SEP.match(sep):
            out.extend(_expand_range(out.pop(), atom))
        else:
            out.append(atom)
    return tuple(dict.fromkeys(a.upper().replace("\u2032", "'") for a in out if a))


def _expand_range(first: str, last: str) -> list[str]:
    lo, hi = first.lower(), last.lower()
    if lo in _ROMAN and hi in _ROMAN and (len(lo) > 1 or len(hi) > 1):
        i, j = _ROMAN.index(lo), _ROMAN.index(hi)
        return list(_ROMAN[i : j + 1]) if i < j else [first, last]
    if len(lo) == len(hi) == 1 and lo < hi and ord(hi) - ord(lo) < 26:
        return [chr(c) for c in range(ord(lo), ord(hi) + 1)]
    if len(lo) > 1 and len(hi) > 1 and lo[0] == hi[0] and lo[1:].isdigit() and hi[1:].isdigit():
        a, b = int(lo[1:]), int(hi[1:])  # "B1-B3"
        return [f"{lo[0]}{k}" for k in range(a, b + 1)] if a < b <= a + 20 else [first, last]
    return [first, last]


def _norm_position(expr: str) -> str:
    words = re.sub(r"\s+(?:panels?|row|column)\s*$", "", expr.strip(), flags=re.I)
    return re.sub(r"[\s-]+", " ", words).upper().replace("CENTRE", "CENTER")


def _drop_overlaps(markers: list[_Marker]) -> list[_Marker]:
    """Keep the longest of overlapping mentions ("(A)" over the "A)" inside it)."""
    out: list[_Marker] = []
    for m in sorted(markers, key=lambda m: (m.start, -(m.end - m.start))):
        if out and m.start < out[-1].end:
            continue
        out.append(m)
    return out


def _accept_sequence(markers: list[_Marker]) -> list[_Marker]:
    """Keep labels that form a sequence from A (or i), so stray letters do not count.

    A letter is kept when every letter before it, from A, is present except isolated gaps of
    one; roman numerals count only when "ii" appears; positions when two different ones do.
    """
    atoms = {label for m in markers for label in m.labels}
    roman = "II" in atoms and "H" not in atoms
    letters = {a[0] for a in atoms if a[0].isalpha() and not _is_position(a)}
    if roman:
        letters -= {"I", "V", "X"}
    kept_letters, gap = set(), 0
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if c in letters:
            kept_letters.add(c)
            gap = 0
        else:
            gap += 1
            if gap > 1:
                break
    romans = set()
    if roman:
        for r in _ROMAN:
            if r.upper() not in atoms:
                break
            romans.add(r.upper())
    positions = {a for a in atoms if _is_position(a)}
    if len(positions) < 2:
        positions = set()

    def keep(label: str) -> bool:
        if label in positions or label in romans:
            return True
        if _is_position(label) or (roman and label in _ROMAN_UPPER):
            return False
        return label[0] in kept_letters and re.fullmatch(r"\d*'?", label[1:]) is not None

    out = []
    for m in markers:
        labels = tuple(label for label in m.labels if keep(label))
        if labels:
            out.append(_Marker(m.start, m.end, labels, m.bare))
    return out


_ROMAN_UPPER = frozenset(r.upper() for r in _ROMAN)


def _is_position(label: str) -> bool:
    return bool(_POSITION_FULL.fullmatch(label))


def _markup_markers(text: str, markup_labels: list[str]) -> list[_Marker]:
    """Locate trusted (bold) labels in caption order; each one starts that panel's text."""
    out: list[_Marker] = []
    pos = 0
    for raw in markup_labels:
        core = raw.strip().strip("().:,;[] ")
        if not core:
            continue
        m = re.compile(rf"(?<![A-Za-z0-9])\(?{re.escape(core)}\)?[.:,]?(?![A-Za-z0-9])").search(
            text, pos
        )
        if not m:
            continue
        if _EXPR_FULL.fullmatch(core):
            labels = _parse_expr(core)
        elif _POSITION_FULL.fullmatch(core):
            labels = (_norm_position(core),)
        else:
            labels = (core.upper(),)
        out.append(_Marker(m.start(), m.end(), labels, bare=True))
        pos = m.end()
    return out


@dataclass(frozen=True)
class _Group:
    """Adjacent markers ("(B) and (C)") acting as one, with the role its position gives it."""

    start: int
    end: int
    labels: tuple[str, ...]
    role: str  # "prefix": owns the text after; "postfix": the clause; "mention"; "all" panels


def _group_markers(text: str, markers: list[_Marker]) -> list[_Group]:
    groups: list[list[_Marker]] = []
    for m in markers:
        if groups and re.fullmatch(
            r"\s*(?:,|and|&|or|,\s*and)?\s*", text[groups[-1][-1].end : m.start]
        ):
            groups[-1].append(m)
        else:
            groups.append([m])
    every = {label for m in markers for label in m.labels}
    out = []
    for g in groups:
        start, end = g[0].start, g[-1].end
        labels = tuple(dict.fromkeys(label for m in g for label in m.labels))
        role = _role(text, start, end, all(m.bare for m in g))
        if len(labels) > 2 and set(labels) == every and role != "prefix":
            role = "all"  # "stage II (a-f)." names every panel: text for all of them
        out.append(_Group(start, end, labels, role))
    return out


def _role(text: str, start: int, end: int, bare: bool) -> str:
    """Prefix labels open a sentence or follow a clause; postfix ones close a clause."""
    if bare:
        return "prefix"
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    if _at_sentence_start(text, start):
        return "prefix"
    if not after or after[0] in ".;,)" or re.match(r"(?:and|or|respectively)\b", after):
        return "postfix"
    if before[-1:] in ",)" and after[:1].isupper():
        return "prefix"
    return "mention"


def _assign_text(text: str, groups: list[_Group]) -> tuple[str, dict[str, list[str]]]:
    """Give each label its own text: after a prefix label, or the clause around a postfix one.

    A postfix label ("... in size (B), 2 weeks later; ...") owns its clause: back to the
    previous label or sentence end, and on to the next sentence end. Text no label owns
    (before the first label, between and after postfix sentences) is the preamble. A mere
    mention takes the sentence around it, and only when the label has no text otherwise.
    """
    parts: dict[str, list[str]] = {label: [] for g in groups for label in g.labels}
    shared: list[str] = []
    owners: tuple[str, ...] = ()
    closing: tuple[str, ...] = ()  # postfix labels whose sentence is still open
    cursor = 0
    postfix_mode = not any(g.role == "prefix" for g in groups)
    for g in groups:
        takes_clause = g.role == "postfix" or (postfix_mode and g.role == "mention")
        gap = _close_sentence(parts, closing, text[cursor : g.start], not takes_clause)
        if g.role == "prefix":
            _give(parts, shared, owners, gap)
            owners, closing = g.labels, ()
        elif takes_clause:
            head, clause = _split_last_clause(gap)
            _give(parts, shared, owners, head)
            _give(parts, shared, g.labels, clause)
            closing = g.labels
        else:
            _give(parts, shared, owners, gap)
        cursor = g.end
    _give(parts, shared, owners, _close_sentence(parts, closing, text[cursor:], True))
    for g in groups:
        for label in g.labels:
            if not parts[label]:
                parts[label].append(_sentence_around(text, g.start, g.end))
    cleaned = {k: [c for c in map(_clean, v) if c] for k, v in parts.items()}
    return _clean(" ".join(shared)), cleaned


def _close_sentence(
    parts: dict[str, list[str]], closing: tuple[str, ...], gap: str, to_end: bool
) -> str:
    """Give the rest of a postfix label's sentence to it; return the text after that.

    Without a sentence end in ``gap`` the text goes to the label only when ``to_end`` (no
    postfix label follows in the same sentence to claim it).
    """
    if not closing:
        return gap
    end = _SENTENCE_END.search(gap)
    cut = end.end() if end else (len(gap) if to_end else 0)
    for label in closing:  # continues the clause before the label: "Patient 6 (A), aged 16"
        if parts[label]:
            parts[label][-1] = parts[label][-1].rstrip() + gap[:cut]
        else:
            parts[label].append(gap[:cut])
    return gap[cut:]


def _give(parts: dict[str, list[str]], shared: list[str], owners: tuple[str, ...], s: str) -> None:
    if not _clean(s):
        return
    if owners:
        for label in owners:
            parts[label].append(s)
    else:
        shared.append(s)


def _split_last_clause(gap: str) -> tuple[str, str]:
    """Cut a stretch of text before the last sentence end: (earlier text, last clause)."""
    ends = list(_SENTENCE_END.finditer(gap))
    # a sentence end right at the gap's start only closes the previous label's clause
    ends = [e for e in ends if _clean(gap[e.end() :])]
    if not ends:
        return "", gap
    cut = ends[-1].end()
    return gap[:cut], gap[cut:]


def _sentence_around(text: str, start: int, end: int) -> str:
    ends = [e.end() for e in _SENTENCE_END.finditer(text)]
    lo = max((e for e in ends if e <= start), default=0)
    hi = min((e for e in ends if e > end), default=len(text))
    return text[lo:hi]


def _clean(s: str) -> str:
    s = " ".join(s.split())
    prev = None
    while prev != s:
        prev = s
        s = _TAIL_JUNK.sub("", _LEAD_JUNK.sub("", s)).strip()
    return s


def _join(preamble: str, part: str) -> str:
    if not preamble:
        return part
    if not part:
        return preamble
    sep = " " if preamble[-1] in ".;:!?" else ". "
    return preamble + sep + part


def _label_order(groups: list[_Group]) -> Callable[[str], tuple]:
    first = {}
    for i, g in enumerate(groups):
        for label in g.labels:
            first.setdefault(label, i)

    def key(label: str) -> tuple:
        if label in _ROMAN_UPPER and len(label) > 1 or label in ("I", "V", "X") and "II" in first:
            return (1, _ROMAN.index(label.lower()), 0, "")
        m = re.fullmatch(r"([A-Z])(\d{0,2})('?)", label)
        if m:
            return (0, ord(m[1]), int(m[2] or 0), m[3])
        return (2, first[label], 0, label)

    return key


# ----------------------------------------------------------------------------------------------
# Panel separation
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelResult:
    """Panels of one figure in reading order; one box (the whole image) when not split."""

    boxes: list[Box]
    confident: bool
    reason: str


WORK_SIDE = 512  # the longer side is reduced by an integer factor to between this and 2x
_NOISE = 10  # grey levels of a blank line spread less than this (JPEG noise), or less
_BLANK_SPREAD = 40  # than this when its mean is within _RINGING of its lightest grey
_RINGING = 2.0  # (ringing beside an edge moves few pixels; a pale fill moves many)
_MIN_GUTTER = 2  # figure pixels; thinner blank lines are gaps between text lines
_WIDE = 0.5  # XY-cut cuts first at gutters at least this fraction of the widest one
_WHITE = 240  # blank lines this light are background on a light figure
_BG_TOL = 24  # blank lines this close to the border colour are background, when
_UNIFORM_BORDER = 0.8  # this much of the border has that colour
_DARK = 128  # a border darker than this makes a dark figure, where white is content
_LINE_MAX = 3  # a blank band of another colour at most this thick (work px) is a separator
_CONTENT = 16  # a pixel this far from its background is content (pale photos too)
_INK = 48  # ... and this far, ink (what connected components are made of)
_MIN_SIDE_FRAC = 0.08  # a panel spans at least this fraction of the figure's width and height
_MIN_SIDE_PX = 24  # ... and at least this many work pixels on each side
_MIN_AREA_FRAC = 0.015
_MAX_ASPECT = 8.0  # titles, colour bars and axis labels are longer and thinner than this
# A panel has structure, which text alone (titles, legends, labels) has not: an unbroken run
_STRUCTURE = 0.5  # of content this long (of the panel's width or height), or this long
_STRUCTURE_FIG = 0.2  # (of the figure's), for rows of several panels: an axis, a frame ...
_SPANNING = 0.9  # (a run across this much of a panel is never text; a shorter one may be a
_LABEL_ASPECT = 4.0  # row of bold rotated words: strips thinner than this cut by gutters),
_BLOB_MIN = 20  # or a connected blob at least this big (figure px) both ways and
_BLOB_MAX = 40  # this big one way: a drawing without long lines
_SEAM_STEP = 24  # a seam between abutting photos is a grey step this large ...
_SEAM_SPAN = 0.5  # ... along at least this fraction of the region ...
_SEAM_PEAK = 4.0  # ... and this many times more often than in the lines nearby,
_SEAM_WHITE_SIDE = 0.1  # ... between photographs: this little white on both sides ...
_SEAM_WHITE_REGION = 0.3  # ... in a region this little white
_COMPONENT_MIN_AREA = 0.04  # components this large (of the figure) may be panels ...
_COMPONENT_MASS = 0.5  # ... when they hold this much of the ink (not flowchart boxes)


@dataclass
class _Work:
    """The grey working copy of a figure, what the rules measure against, and memos."""

    a: np.ndarray  # uint8 (h, w)
    bg: int  # border colour: the figure's background
    scale: float  # figure pixels per work pixel
    min_gutter: int  # work pixels
    background: np.ndarray  # _background_levels(bg)
    panels: dict[Box, bool] = field(default_factory=dict)  # _is_panel verdicts
    structure: dict[Box, bool] = field(default_factory=dict)  # of trimmed boxes
    trims: dict[Box, Box] = field(default_factory=dict)
    gutters: dict[tuple[Box, int, bool], list[Box]] = field(default_factory=dict)
    cut_spans: dict[tuple[Box, int], tuple[list[Span], list[Span]]] = field(default_factory=dict)
    masks: dict[int, np.ndarray] = field(default_factory=dict)
    tight: dict[Box, int] = field(default_factory=dict)  # pieces already tight along an axis
    # per line (axis, cross interval): [(start, end, blank, light)] of the lines computed
    levels: dict[tuple[int, int, int], list[tuple[int, int, np.ndarray, np.ndarray]]] = field(
        default_factory=dict
    )

    def blank_level(self, region: Box, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_blank_level` of a region's lines (rows for axis=1, columns for axis=0).

        A line's verdict depends only on its own pixels, so lines of a region already
        measured across the same extent (a piece cut from it along that axis) are sliced
        from the memo, not read again.
        """
        x0, y0, x1, y1 = region
        start, end = (y0, y1) if axis == 1 else (x0, x1)
        known = self.levels.setdefault((axis, *((x0, x1) if axis == 1 else (y0, y1))), [])
        for s, e, blank, light in known:
            if s <= start and end <= e:
                return blank[start - s : end - s], light[start - s : end - s]
        blank, light = _blank_level(self.a[y0:y1, x0:x1], axis)
        known.append((start, end, blank, light))
        return blank, light

    def cuts(self, region: Box, axis: int) -> tuple[list[Span], list[Span]]:
        """:func:`_find_cuts` of a region, computed once for the wide and the full search."""
        if (region, axis) not in self.cut_spans:
            self.cut_spans[region, axis] = _find_cuts(self, region, axis)
        return self.cut_spans[region, axis]

    def content(self, box: Box) -> np.ndarray:
        """Pixels of a box unlike its own background (its border colour: a white panel on a
        black figure has a white background)."""
        x0, y0, x1, y1 = box
        sub = self.a[y0:y1, x0:x1]
        local = int(_median(np.concatenate([sub[0], sub[-1], sub[:, 0], sub[:, -1]])))
        if abs(local - self.bg) <= _BG_TOL:
            local = self.bg
        elif local >= _WHITE:
            local = 255
        else:  # a panel on its own coloured ground: rare, measured for this box only
            return _unlike(sub, local, _CONTENT)
        if local not in self.masks:
            self.masks[local] = _unlike(self.a, local, _CONTENT)
        return self.masks[local][y0:y1, x0:x1]

    @property
    def size(self) -> tuple[int, int]:
        return self.a.shape[1], self.a.shape[0]


def find_panels(img: Image.Image, *, detector: Detector | None = None) -> PanelResult:
    """Panel boxes of a figure, in its own pixels and reading order.

    With ``detector`` its boxes are used (clipped, sorted); otherwise a recursive XY-cut on
    a grey copy reduced to about ``WORK_SIDE`` px. Pieces failing the sliver rules are merged
    into their neighbour; with fewer than two panels left the figure stays whole, and
    ``confident`` is False when there were candidate cuts that the rules refused.
    """
    w, h = img.size
    if detector is not None:
        return _detected(img, detector)
    work = _working_copy(img)
    pieces, method = _cut(work, (0, 0, *work.size), top=True)
    if len(pieces) < 2:
        return PanelResult([(0, 0, w, h)], method == "none", f"single: {_SINGLE[method]}")
    boxes = _reading_order([_to_figure(b, work.scale, w, h) for b in pieces])
    return PanelResult(boxes, True, f"{len(boxes)} panels by {method}")


_SINGLE = {
    "none": "no gutter, separator line, seam or separate component",
    "kept": "every candidate cut left slivers (titles, legends, labels); kept whole",
}


def _working_copy(img: Image.Image) -> _Work:
    gray = img if img.mode == "L" else img.convert("L")
    factor = max(1, max(gray.size) // WORK_SIDE)
    if factor > 1:
        gray = gray.reduce(factor)
    a = np.asarray(gray, dtype=np.uint8)
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    bg = int(_median(border))
    if np.mean(np.abs(border.astype(np.int16) - bg) <= _BG_TOL) < _UNIFORM_BORDER:
        bg = 255  # panels reach the border: no background of its own, white only
    scale = img.size[0] / a.shape[1]
    return _Work(a, bg, scale, max(1, round(_MIN_GUTTER / scale)), _background_levels(bg))


def _median(values: np.ndarray) -> float:
    """``np.median`` of a 1-D array, by one partial sort: np.median's own overhead is
    several times this on the short arrays (borders, neighbourhoods) it is asked about."""
    k = values.size // 2
    if values.size % 2:
        return float(np.partition(values, k)[k])
    part = np.partition(values, (k - 1, k))
    return (float(part[k - 1]) + float(part[k])) / 2


def _unlike(a: np.ndarray, value: int, tol: int) -> np.ndarray:
    """|a - value| > tol for uint8 without widening: one wrapping subtraction, one compare."""
    lo, hi = value - tol, value + tol
    if lo <= 0:
        return a > hi
    if hi >= 255:
        return a < lo
    return a - np.uint8(lo) > 2 * tol


def _to_figure(box: Box, scale: float, w: int, h: int) -> Box:
    x0, y0, x1, y1 = box
    return (
        max(0, int(x0 * scale)),
        max(0, int(y0 * scale)),
        min(w, int(np.ceil(x1 * scale))),
        min(h, int(np.ceil(y1 * scale))),
    )


def _cut(work: _Work, region: Box, top: bool = False) -> tuple[list[Box], str]:
    """Panels of one region and how they were found ("none" / "kept" when not split).

    Horizontal gutters are tried before vertical ones, each first at the widest gutters
    (as XY-cut cuts the widest valley; narrower ones are found inside the pieces), then at
    all; then seams between abutting photos, then (for the whole figure only) separate ink
    components.
    """
    region = _trim(work, region)
    refused = False
    finders: list[tuple[str, Callable[[], list[Box]]]] = [
        ("gutters", lambda: _gutter_pieces(work, region, 1, wide=True)),
        ("gutters", lambda: _gutter_pieces(work, region, 1)),
        ("gutters", lambda: _gutter_pieces(work, region, 0, wide=True)),
        ("gutters", lambda: _gutter_pieces(work, region, 0)),
        ("seams", lambda: _seam_pieces(work, region)),
    ]
    tried: list[list[Box]] = []
    for method, finder in finders:
        pieces = finder()
        if len(pieces) < 2 or pieces in tried:
            continue
        tried.append(pieces)
        merged = _merge_slivers(work, pieces) if _may_split(work, pieces) else pieces[:1]
        if len(merged) < 2:
            refused = True
            continue
        out: list[Box] = []
        for piece in merged:
            out.extend(_cut(work, piece)[0])
        return out, method
    if top:
        pieces = _component_pieces(work, region)
        if len(pieces) > 1:
            return pieces, "components"
    return [region], "kept" if refused else "none"


def _trim(work: _Work, region: Box) -> Box:
    """Shrink a region to its content: drop blank background lines at its edges.

    Only background (white or the border colour) is margin: the smooth dark edge of a
    photograph or a panel's frame line is content.
    """
    if region not in work.trims:
        x0, y0, x1, y1 = region
        tight = work.tight.get(region)  # the axis a cut already made tight
        rows = [0, y1 - y0 - 1] if tight == 1 else _content_lines(work, region, 1)
        cols = [0, x1 - x0 - 1] if tight == 0 else _content_lines(work, region, 0)
        if len(rows) and len(cols):
            trimmed = (x0 + int(cols[0]), y0 + int(rows[0]))
            work.trims[region] = (*trimmed, x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1)
        else:
            work.trims[region] = region
    return work.trims[region]


def _content_lines(work: _Work, region: Box, axis: int) -> np.ndarray:
    return np.flatnonzero(~_background_lines(work, region, axis))


def _background_lines(work: _Work, region: Box, axis: int) -> np.ndarray:
    blank, light = work.blank_level(region, axis)
    return blank & work.background[light]


def _background_levels(bg: int) -> np.ndarray:
    """Which grey levels are background: the figure's border colour, and white unless the
    figure is dark (a white panel on black is the panel, margin included). A table of all
    256 levels, looked up per line."""
    level = np.arange(256)
    near = np.abs(level - bg) <= _BG_TOL
    return near | (level >= _WHITE) if bg >= _DARK else near


def _blank_level(sub: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Blank lines (rows for axis=1, columns for axis=0) and each line's lightest grey.

    A line is blank when its grey levels spread less than ``_NOISE``, or less than
    ``_BLANK_SPREAD`` while its mean stays within ``_RINGING`` of its lightest grey: JPEG
    ringing beside an edge moves a few pixels, a pale fill next to white moves many. Means
    are taken of those unsure lines only, as exact integer sums.
    """
    light = sub.max(axis=axis)
    spread = light - sub.min(axis=axis)
    blank = spread < _NOISE
    unsure = np.flatnonzero(~blank & (spread < _BLANK_SPREAD))
    if unsure.size:
        lines = sub[unsure] if axis == 1 else sub[:, unsure]
        n = sub.shape[axis]
        total = lines.sum(axis=axis, dtype=np.int32)
        blank[unsure] = light[unsure].astype(np.int32) * n - total < _RINGING * n
    return blank, light


def _gutter_pieces(work: _Work, region: Box, axis: int, wide: bool = False) -> list[Box]:
    """Cut a region at its interior gutters: rows (axis=1) or columns (axis=0).

    A gutter is a run of blank lines of the background colour (white, or the border
    colour) at least ``min_gutter`` thick, or a thin separator line of any colour. With
    ``wide`` only separator lines and gutters at least half as thick as the widest count.
    """
    key = (region, axis, wide)
    if key not in work.gutters:
        work.gutters[key] = _find_gutter_pieces(work, region, axis, wide)
    return work.gutters[key]


def _find_gutter_pieces(work: _Work, region: Box, axis: int, wide: bool) -> list[Box]:
    x0, y0, x1, y1 = region
    gutters, lines = work.cuts(region, axis)
    if wide and gutters:
        widest = max(e - s for s, e in gutters)
        gutters = [(s, e) for s, e in gutters if e - s >= _WIDE * widest]
    cuts = sorted(gutters + lines)
    if not cuts:
        return []
    n = (y1 - y0) if axis == 1 else (x1 - x0)
    edges = [0, *[v for c in cuts for v in c], n]
    spans = list(zip(edges[0::2], edges[1::2], strict=True))
    if axis == 1:
        pieces = [(x0, y0 + a, x1, y0 + b) for a, b in spans]
    else:
        pieces = [(x0 + a, y0, x0 + b, y1) for a, b in spans]
    if not lines:
        for piece in pieces:  # next to background gutters (not lines): already tight
            work.tight.setdefault(piece, axis)
    return pieces


def _find_cuts(work: _Work, region: Box, axis: int) -> tuple[list[Span], list[Span]]:
    """Interior background gutters and separator lines of a region, as line spans.

    A separator is a dark rule on a light figure (light lines between photos are seams)
    at most ``_LINE_MAX`` thick, with content on both sides.
    """
    blank, light = work.blank_level(region, axis)
    if not blank.any():
        return [], []
    background = blank & work.background[light]
    n = blank.size
    gutters = [
        (s, e)
        for s, e in _background_gutters(blank, background, work.min_gutter)
        if s > 0 and e < n
    ]
    lines = []
    if work.bg >= _DARK:
        lines = [
            (s, e)
            for s, e in _runs(blank & ~background)
            if e - s <= _LINE_MAX and s > 0 and e < n and not blank[s - 1] and not blank[e]
        ]
    return gutters, lines


def _background_gutters(
    blank: np.ndarray, background: np.ndarray, min_width: int
) -> list[tuple[int, int]]:
    """Runs of background lines at least ``min_width`` thick; a separator line inside a
    gutter joins the runs on either side. Uniform lines of another colour at a gutter's
    edge (the smooth edge of a photograph) stay with the content."""
    merged: list[list[int]] = []
    for s, e in _runs(background):
        if merged and s - merged[-1][1] <= _LINE_MAX and blank[merged[-1][1] : s].all():
            merged[-1][1] = e
            merged[-1][2] += e - s
        else:
            merged.append([s, e, e - s])
    return [(s, e) for s, e, width in merged if width >= min_width]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1]).tolist()
    return list(zip(edges[0::2], edges[1::2], strict=True))


def _seam_pieces(work: _Work, region: Box) -> list[Box]:
    """Cut abutting photographs at straight seams: a grey step along the whole region.

    Only regions of photographs (little white) are searched. A step is a seam when it spans
    most of the region, stands far above the steps of nearby lines, and both sides are
    photographs too: an axis, a frame or a bar edge has white beside it. A thin light line
    between two photographs gives two seams and a sliver, which folds away.
    """
    x0, y0, x1, y1 = region
    if _share(work.a[y0:y1:4, x0:x1:4] >= _WHITE) > _SEAM_WHITE_REGION:
        return []
    sub = work.a[y0:y1, x0:x1]
    white = sub >= _WHITE
    for axis in (1, 0):
        a, b = (sub[1:], sub[:-1]) if axis == 1 else (sub[:, 1:], sub[:, :-1])
        step = np.maximum(a, b) - np.minimum(a, b) > _SEAM_STEP  # |grey step|, in uint8
        white_share = _share(white, axis)
        seams = [k for k in _seam_positions(_share(step, axis)) if _photo_sides(white_share, k)]
        if seams:
            edges = [0, *seams, sub.shape[0 if axis == 1 else 1]]
            spans = [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
            if axis == 1:
                return [(x0, y0 + a, x1, y0 + b) for a, b in spans]
            return [(x0 + a, y0, x0 + b, y1) for a, b in spans]
    return []


def _share(mask: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Fraction of True (``mask.mean``), per line along ``axis``; counting bytes is many
    times faster than numpy's float mean of booleans."""
    n = mask.size if axis is None else mask.shape[axis]
    return mask.view(np.uint8).sum(axis=axis, dtype=np.int64) / n


def _photo_sides(white_share: np.ndarray, k: int) -> bool:
    """Whether the lines just before and after a seam at k hold little white."""
    before, after = white_share[max(0, k - 4) : max(0, k - 1)], white_share[k + 1 : k + 4]
    return bool(before.size and after.size and max(before.max(), after.max()) <= _SEAM_WHITE_SIDE)


def _seam_positions(frac: np.ndarray) -> list[int]:
    """Line indices k where a step between lines k-1 and k stands out from its neighbours."""
    out = []
    for k in np.flatnonzero(frac >= _SEAM_SPAN).tolist():
        near = np.concatenate((frac[max(0, k - 10) : max(0, k - 2)], frac[k + 3 : k + 11]))
        if near.size >= 8 and frac[k] >= _SEAM_PEAK * max(_median(near), 0.02):
            out.append(k + 1)
    return out


def _component_pieces(work: _Work, region: Box) -> list[Box]:
    """Panels as separate blobs of ink when no straight gutter crosses the figure.

    Components large enough to be panels, holding most of the ink, become seeds; every
    other component joins the seed whose box is nearest. Accepted only when the grown
    boxes do not overlap and all pass the panel rules. Runs at half size for speed.
    """
    x0, y0, x1, y1 = region
    ink = _unlike(work.a[y0:y1:2, x0:x1:2], work.bg, _INK)
    labels, n = ndimage.label(ink, structure=np.ones((3, 3), dtype=bool))
    if n < 2:
        return []
    boxes = [
        (2 * s[1].start, 2 * s[0].start, 2 * s[1].stop, 2 * s[0].stop)
        for s in ndimage.find_objects(labels)
    ]
    fig_area = work.size[0] * work.size[1]
    big = [i for i, b in enumerate(boxes) if _area(b) >= _COMPONENT_MIN_AREA * fig_area]
    seeds = [boxes[i] for i in big]
    if len(seeds) < 2 or _any_overlap(seeds):
        return []
    mass = np.bincount(labels.ravel())[1:]
    if mass[big].sum() < _COMPONENT_MASS * mass.sum():
        return []
    grown = [list(b) for b in seeds]
    for i, b in enumerate(boxes):
        if i in big:
            continue
        g = grown[min(range(len(seeds)), key=lambda k: _gap(seeds[k], b))]
        g[:] = [min(g[0], b[0]), min(g[1], b[1]), max(g[2], b[2]), max(g[3], b[3])]
    out = [(x0 + g[0], y0 + g[1], min(x1, x0 + g[2]), min(y1, y0 + g[3])) for g in grown]
    if _any_overlap(out) or not all(_is_panel(work, b) for b in out):
        return []
    return out


def _area(b: Box) -> int:
    return (b[2] - b[0]) * (b[3] - b[1])


def _gap(a: Box, b: Box) -> int:
    dx = max(0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0, max(a[1], b[1]) - min(a[3], b[3]))
    return max(dx, dy)


def _any_overlap(boxes: Sequence[Box]) -> bool:
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1]):
                return True
    return False


def _merge_slivers(work: _Work, pieces: list[Box]) -> list[Box]:
    """Fold pieces that cannot be panels into a neighbour, in rounds.

    ``pieces`` lie side by side along one axis. Each round every sliver joins the neighbour
    across its narrower gap (chains of slivers join up), so the widest gutters, the ones
    between panels, survive and labels fold into the panel they label. The merged pieces
    are judged again in the next round.
    """
    pieces = list(pieces)
    while len(pieces) > 1:
        bad = [not _is_panel(work, p) for p in pieces]
        if not any(bad):
            break
        trimmed = [_trim(work, p) for p in pieces]
        gaps = [_gap(a, b) for a, b in zip(trimmed, trimmed[1:], strict=False)]
        joined = [False] * (len(pieces) - 1)  # joined[i]: piece i merges with piece i + 1
        for i, is_bad in enumerate(bad):
            if is_bad:
                left = gaps[i - 1] if i > 0 else None
                right = gaps[i] if i < len(gaps) else None
                if right is None or (left is not None and left <= right):
                    joined[i - 1] = True
                else:
                    joined[i] = True
        merged = [pieces[0]]
        for piece, join in zip(pieces[1:], joined, strict=True):
            if join:
                merged[-1] = _union(work, merged[-1], piece)
            else:
                merged.append(piece)
        pieces = merged
    return pieces


def _union(work: _Work, a: Box, b: Box) -> Box:
    """Two neighbouring pieces as one, with what is known of them carried over.

    The union's content box is the box of both contents, and it has structure when either
    part has: no pixels need reading again.
    """
    union = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
    ta, tb = _trim(work, a), _trim(work, b)
    trimmed = (min(ta[0], tb[0]), min(ta[1], tb[1]), max(ta[2], tb[2]), max(ta[3], tb[3]))
    work.trims.setdefault(union, trimmed)
    if work.structure.get(ta) or work.structure.get(tb):
        work.structure.setdefault(trimmed, True)
    return union


def _is_panel(work: _Work, box: Box) -> bool:
    """Big enough, not a thin strip, and with structure (an axis, a frame, a photo).

    The untrimmed box is checked first: when it is too small, its content is too.
    """
    if box not in work.panels:
        work.panels[box] = (
            _fits_panel(work, box)
            and _fits_panel(work, trimmed := _trim(work, box))
            and _structured(work, trimmed)
        )
    return work.panels[box]


def _fits_panel(work: _Work, box: Box) -> bool:
    w, h = box[2] - box[0], box[3] - box[1]
    return _large_enough(work, box) and max(w / h, h / w) <= _MAX_ASPECT


def _large_enough(work: _Work, box: Box) -> bool:
    """Sides and area a panel needs (a box that grows keeps passing: unlike the aspect)."""
    w_fig, h_fig = work.size
    w, h = box[2] - box[0], box[3] - box[1]
    if w < max(_MIN_SIDE_PX, _MIN_SIDE_FRAC * w_fig) or h < max(
        _MIN_SIDE_PX, _MIN_SIDE_FRAC * h_fig
    ):
        return False
    return w * h >= _MIN_AREA_FRAC * w_fig * h_fig


def _may_split(work: _Work, pieces: list[Box]) -> bool:
    """Whether merging the pieces could leave two panels, judged on sizes alone.

    The pieces are cut from one region along one axis, so they share its cross extent and
    a run of them only grows along the axis. Merging joins runs of neighbouring pieces, and
    every panel is large enough, so two panels need a cut between pieces with a large
    enough box on both sides; the shortest large enough head leaves the largest tail. Most
    cuts inside a panel (a title, a row of tick labels) fail this and read no pixels.
    """
    for k in range(1, len(pieces)):
        if _large_enough(work, _bounds(pieces[:k])):
            return _large_enough(work, _bounds(pieces[k:]))
    return False


def _bounds(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _is_label_block(work: _Work, box: Box) -> bool:
    """A row of tick labels, a legend, lines of text: its own gutters cut it into three or
    more strips that are all thin or tiny (bold rotated words have long runs, but are thin).
    """
    w_fig, h_fig = work.size
    for axis in (1, 0):
        strips = _gutter_pieces(work, box, axis)
        if len(strips) >= 3 and all(
            max(w / h, h / w) > _LABEL_ASPECT or w * h < _MIN_AREA_FRAC * w_fig * h_fig
            for w, h in ((s[2] - s[0], s[3] - s[1]) for s in strips)
        ):
            return True
    return False


def _structured(work: _Work, box: Box) -> bool:
    if box not in work.structure:
        work.structure[box] = _has_structure(work, box)
    return work.structure[box]


def _has_structure(work: _Work, box: Box) -> bool:
    """A long unbroken run of content (axis, frame, photo) outside a block of labels, else a
    big blob (a drawing)."""
    x0, y0, x1, y1 = box
    w_fig, h_fig = work.size
    w, h = x1 - x0, y1 - y0
    runs = _Runs(work.content(box))
    need_w, need_h = (
        min(_STRUCTURE * w, _STRUCTURE_FIG * w_fig),
        min(_STRUCTURE * h, _STRUCTURE_FIG * h_fig),
    )
    if runs.has(_SPANNING * w, axis=1) or runs.has(_SPANNING * h, axis=0):
        return True  # photos, frames, axes across the whole panel
    if runs.has(need_w, axis=1) or runs.has(need_h, axis=0):
        return not _is_label_block(work, box)
    return _has_blob(runs.mask, _BLOB_MIN / work.scale, _BLOB_MAX / work.scale)


def _has_blob(mask: np.ndarray, small: float, large: float) -> bool:
    """Whether a connected blob's box is at least ``small`` by ``large`` (either way).

    Glyphs of text, even rotated, are separate small blobs; line art and photos are not.
    """
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    for sl in ndimage.find_objects(labels):
        bh, bw = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if min(bh, bw) >= small and max(bh, bw) >= large:
            return True
    return False


class _Runs:
    """Unbroken runs of True along the rows (axis=1) or columns (axis=0) of a 2-D mask.

    Only lines with at least that many True in total can hold a run that long, so each
    line's total is counted once per axis and only those lines are scanned: the first 32
    (a photograph answers there), then the rest at once. What a scan found answers the
    next, shorter question without scanning those lines again.
    """

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask
        self.counts: dict[int, np.ndarray] = {}
        # per axis: lines with at least this many True were all scanned; longest run seen
        self.scanned: dict[int, tuple[float, int]] = {}

    def has(self, length: float, axis: int) -> bool:
        """Whether some line holds a run of True at least ``length`` long."""
        if axis not in self.counts:
            self.counts[axis] = self.mask.view(np.uint8).sum(axis=axis, dtype=np.int32)
        counts = self.counts[axis]
        done, longest = self.scanned.get(axis, (np.inf, 0))
        if longest >= length:
            return True
        if length >= done:
            return False
        lines = np.flatnonzero((counts >= length) & (counts < done))
        for chunk in (lines[:32], lines[32:]):
            if chunk.size:
                longest = max(longest, _longest_run(self.mask, chunk, axis))
                if longest >= length:
                    self.scanned[axis] = (done, longest)
                    return True
        self.scanned[axis] = (length, longest)
        return False


def _longest_run(mask: np.ndarray, lines: np.ndarray, axis: int) -> int:
    """Length of the longest run of True in the given rows (axis=1) or columns (axis=0)."""
    picked = mask[lines] if axis == 1 else mask[:, lines].T
    padded = np.zeros((picked.shape[0], picked.shape[1] + 2), dtype=bool)
    padded[:, 1:-1] = picked  # False either side: runs stay in their line
    flat = padded.ravel()
    edges = np.flatnonzero(flat[1:] != flat[:-1])
    return int((edges[1::2] - edges[0::2]).max(initial=0))


def _reading_order(boxes: list[Box]) -> list[Box]:
    """Rows top to bottom, left to right within a row.

    A box joins the current row when its top lies above the bottom of every box in it, so
    a tall panel beside two stacked ones reads tall, upper, lower.
    """
    rows: list[list[Box]] = []
    for b in sorted(boxes, key=lambda b: (b[1], b[0])):
        if rows and b[1] < min(r[3] for r in rows[-1]):
            rows[-1].append(b)
        else:
            rows.append([b])
    return [b for row in rows for b in sorted(row, key=lambda b: (b[0], b[1]))]


def _detected(img: Image.Image, detector: Detector) -> PanelResult:
    """Boxes from a learned detector, checked, clipped to the image and sorted."""
    w, h = img.size
    try:
        raw = detector(img)
    except Exception as exc:  # a user-supplied model: report its failure as a panel error
        raise DetectorError(f"panel detector failed: {type(exc).__name__}: {exc}") from exc
    boxes = []
    for b in raw:
        try:
            x0, y0, x1, y1 = (float(v) for v in b)
        except (TypeError, ValueError) as exc:
            raise DetectorError(f"detector returned {b!r}, not (x0, y0, x1, y1)") from exc
        box = (max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1))))
        if box[2] > box[0] and box[3] > box[1]:
            boxes.append(box)
    if len(boxes) < 2:
        return PanelResult([(0, 0, w, h)], True, "single: detector found fewer than 2 panels")
    return PanelResult(_reading_order(boxes), True, f"{len(boxes)} panels by detector")


# ----------------------------------------------------------------------------------------------
# Alignment, the learned-detector seam, and panel rows
# ----------------------------------------------------------------------------------------------


def align(panels: Sequence[Box], split: CaptionSplit) -> list[tuple[Box, str | None, str, bool]]:
    """Pair panels (reading order) with labels (label order) when their counts agree.

    Otherwise no pairing is trustworthy: every panel carries the full caption, unaligned.
    """
    if panels and len(panels) == len(split.items):
        return [
            (box, label, text, True) for box, (label, text) in zip(panels, split.items, strict=True)
        ]
    return [(box, None, split.caption, False) for box in panels]


_TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts", ".torchscript")


def load_detector(path: str | None) -> Detector | None:
    """A learned panel detector from a local file; None (the classical splitter) without one.

    ``path`` is either ``"file.py:function"`` / ``"package.module:function"`` naming a
    Python callable ``f(PIL.Image) -> [(x0, y0, x1, y1), ...]`` in image pixels, or a
    TorchScript file (``.pt``, ``.pth``, ``.ts``, ``.torchscript``; needs ``torch``) whose
    module takes a float tensor ``[1, 3, H, W]`` in 0..1 and returns an ``[N, 4]`` box
    tensor (or a dict with ``"boxes"``, or a tuple whose first item is one). Nothing is
    ever downloaded.
    """
    if path is None:
        return None
    if path.lower().endswith(_TORCHSCRIPT_SUFFIXES):
        return _torchscript_detector(Path(path))
    module_name, sep, attr = path.rpartition(":")
    if not sep or not module_name or not attr:
        raise DetectorError(
            f"detector {path!r} is neither 'file.py:function', 'module:function' nor a "
            f"TorchScript file ({', '.join(_TORCHSCRIPT_SUFFIXES)})"
        )
    module = _load_module(module_name)
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise DetectorError(f"{module_name!r} has no callable {attr!r}")
    return fn


def _load_module(name: str):
    """Import a module from a local .py file or the installed packages, never a download."""
    if name.endswith(".py") or "/" in name or "\\" in name:
        file = Path(name)
        if not file.is_file():
            raise DetectorError(f"detector file not found: {file}")
        spec = importlib.util.spec_from_file_location(f"_pmc_detector_{file.stem}", file)
        if spec is None or spec.loader is None:
            raise DetectorError(f"cannot load detector file {file}")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # the user's file: report why it failed to import
            raise DetectorError(f"detector file {file} failed to import: {exc}") from exc
        return module
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise DetectorError(f"detector module {name!r} not found: {exc}") from exc


def _torchscript_detector(file: Path) -> Detector:
    if not file.is_file():
        raise DetectorError(f"detector file not found: {file}")
    try:
        import torch
    except ImportError as exc:
        raise DetectorError(f"TorchScript detector {file} needs torch, not installed") from exc
    model = torch.jit.load(str(file), map_location="cpu").eval()

    def detect(img: Image.Image) -> list[Box]:
        rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
        with torch.no_grad():
            out = model(torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0))
        if isinstance(out, dict):
            out = out["boxes"]
        elif isinstance(out, (tuple, list)):
            out = out[0]
        return [tuple(row) for row in out.reshape(-1, 4).tolist()]

    return detect


def panel_rows(
    parent: dict,
    img_bytes: bytes,
    *,
    detector: Detector | None = None,
    max_side: int = 1024,
    quality: int = 90,
) -> list[dict]:
    """Panel rows of one figure row, or [] when the figure is not split.

    ``parent`` needs ``key`` and ``caption`` (``markup_labels`` is used when present);
    ``img_bytes`` is its normalised image. The classical splitter reads a grey decode (for a
    JPEG, libjpeg's luma plane alone: no chroma, no colour conversion), and the colour image
    is decoded only once the figure is known to be compound, for the crops; a detector reads
    the colour image. Crops are hashed from the grey image. Each row has ``key, parent_key,
    panel_index, box`` (x0, y0, x1, y1 as fractions of the parent), ``label, subcaption,
    aligned, image`` (RGB JPEG), ``width, height, sha256, phash, dhash``.
    """
    searched = decode_figure(img_bytes, "L" if detector is None else "RGB")
    boxes = find_panels(searched, detector=detector).boxes
    if len(boxes) < 2:
        return []
    rgb = searched if detector is not None else decode_figure(img_bytes, "RGB")
    gray = searched if detector is None else rgb.convert("L")
    split = split_caption(parent.get("caption") or "", parent.get("markup_labels"))
    w, h = rgb.size
    rows = []
    for k, (box, label, text, aligned) in enumerate(align(boxes, split)):
        crop = rgb.crop(box)
        if max(crop.size) > max_side:
            crop.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        jpeg = _encode_jpeg(crop, quality)
        thumb = hash_thumbnail(gray.crop(box))
        rows.append(
            {
                "key": panel_key(parent["key"], k),
                "parent_key": parent["key"],
                "panel_index": k,
                "box": [box[0] / w, box[1] / h, box[2] / w, box[3] / h],
                "label": label,
                "subcaption": text,
                "aligned": aligned,
                "image": jpeg,
                "width": crop.width,
                "height": crop.height,
                "sha256": hashlib.sha256(jpeg).hexdigest(),
                "phash": phash64(thumb),
                "dhash": dhash64(thumb),
            }
        )
    return rows


_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error)


def decode_figure(data: bytes, mode: str) -> Image.Image:
    """Decode a (normalised) figure image to ``mode`` ("RGB" or "L").

    For "L", a JPEG is asked for grey at full size (``draft``), so libjpeg decodes the luma
    plane only: about half the cost of an RGB decode followed by a conversion.
    """
    try:
        im = Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
        if mode == "L" and im.format == "JPEG":
            im.draft("L", im.size)
        im.load()
        return im if im.mode == mode else im.convert(mode)
    except _DECODE_ERRORS as exc:
        raise ImageUnreadableError(
            f"cannot decode figure image for panel splitting: {exc}"
        ) from exc


def _encode_jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, subsampling="4:2:0", optimize=False)
    return buf.getvalue()
