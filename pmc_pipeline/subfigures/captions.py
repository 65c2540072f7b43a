"""Caption splitting: a figure caption cut into a shared preamble and one text per panel label.

Why: a panel paired with the part of the caption that describes it is a sharper training pair
than the whole caption; and the labels a caption names ("(A)", "A.", "a ", "(a-c)", "(A and B)",
"B1", "(ii)", "Left:", bold labels passed by the extract stage) are the first independent
evidence that a figure is compound at all. Only labels that form a sequence from A count, so
"vitamin A", "(A549 cells)", "p < 0.05" or units are not labels. Pure: text in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


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
_SEP = r"(?:\s*(?:,\s*and|,|and|to|[-\u2013\u2014\u2212/])\s*|\s+&\s+)"  # "H&E" is no list
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
    rf"|(?P<space>\s)(?=(?-i:[A-Z0-9])))",
    re.I,
)
_BARE_POSITION = re.compile(rf"(?<!\w)(?P<e>{_POSITION})\s*:", re.I)
_FIG_PREFIX = re.compile(rf"(?<!\w)fig(?:ure)?s?\.?\s*\d+\s*(?P<e>{_EXPR})\s*[.:)]?", re.I)
_FIG_REF_BEFORE = re.compile(r"fig(?:ure)?s?\.?\s*\d+\s*[\[(]?\s*$", re.I)
_SENTENCE_END = re.compile(r"(?<![\s(][A-Za-z])[.;!?](?=\s)|;")
_LEAD_JUNK = re.compile(r"^[\s,;:.)\]]+|^(?:and|or)\s+", re.I)
_TAIL_JUNK = re.compile(r"(?:[\s,;:(\[]+|\s+(?:and|or|in|of))+$", re.I)


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
        markers = _accept_sequence(text, _find_markers(text))
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


def _accept_sequence(text: str, markers: list[_Marker]) -> list[_Marker]:
    """Keep labels that form a sequence from A (or i), so stray letters do not count.

    A letter is kept when every letter before it, from A, is present except isolated gaps of
    one, and a letter past a gap only where it opens a sentence (a unit such as "body weight
    (g) in mice" stands inside one); roman numerals count only when "ii" appears; positions
    when two different ones do.
    """
    atoms = {label for m in markers for label in m.labels}
    roman = "II" in atoms and "H" not in atoms
    letters = {a[0] for a in atoms if a[0].isalpha() and not _is_position(a)}
    if roman:
        letters -= {"I", "V", "X"}
    opening = {label[0] for m in markers if _at_sentence_start(text, m.start) for label in m.labels}
    kept_letters, gap = set(), 0
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if c in letters:
            if gap and c not in opening:
                break  # past a gap, inside a sentence: a unit ("body weight (g) in"), no label
            kept_letters.add(c)
            gap = 0
        else:
            gap += 1
            if gap > 1:
                break
    kept_letters -= _trailing_mentions(text, markers, kept_letters)
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


def _trailing_mentions(text: str, markers: list[_Marker], letters: set[str]) -> set[str]:
    """The last letter of the sequence when the caption names it only inside a clause
    (before a lowercase word), written unlike the labels that open or close the panels'
    texts (its case, or parentheses where they stand bare) or as a unit after its quantity
    ("body weight (g) in mice", "time (h)"): a unit that happens to follow the sequence,
    not a panel. A real last panel mentioned in passing ("and (D) comparison of", "the graph
    in (J) shows") keeps its label."""
    if len(letters) < 3:
        return set()
    last = max(letters)
    naming = [m for m in markers if any(label[0] == last for label in m.labels)]
    labels = {  # how the other panels' labels are written, opening a text or in passing
        _style(text, m)
        for m in markers
        if m not in naming and any(label[0] in letters for label in m.labels)
    }
    inside = all(_role(text, m.start, m.end, m.bare) == "mention" for m in naming)
    unit = all(_style(text, m) not in labels or _after_quantity(text, m) for m in naming)
    return {last} if naming and inside and unit else set()


def _style(text: str, m: _Marker) -> tuple[bool, bool]:
    """How a label is written: bare or in parentheses, upper or lower case."""
    letters = re.findall(r"[A-Za-z]", text[m.start : m.end])  # the last: "(anti-CD34, E-H)"
    return m.bare, bool(letters and letters[-1].isupper())


_UNIT = re.compile(r"\(\s*[ghdsml]\s*\)")  # grams, hours, days, seconds, metres, litres
_NO_QUANTITY = re.compile(
    r"\b(?:and|or|with|in|of|on|see|from|to|by|for|at|as|the|panels?|figures?|figs?\.?)$", re.I
)


def _after_quantity(text: str, m: _Marker) -> bool:
    """Whether a mention is a unit symbol in parentheses right after a word that can be
    its quantity ("weight (g)"), not after a word that points at a panel ("in (g)")."""
    before = text[: m.start].rstrip()
    return (
        bool(_UNIT.fullmatch(text[m.start : m.end]))
        and before[-1:].isalpha()
        and not _NO_QUANTITY.search(before)
    )


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
