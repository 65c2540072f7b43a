"""JATS / NLM XML -> article and figure records (pure: bytes in, records out).

Why this exists: pubmed_parser drops text nested in inline markup, keeps only a caption's first
child, and hands a caption-less figure the previous figure's caption. PMC-15M-style training
text needs every word of every caption, attached to the right image.

Parsing is hardened: no DTD loading, no network, no entity substitution; a document whose
DOCTYPE declares entities (billion laughs, external entities) is rejected, never expanded.
NLM 2.3/3.0 and JATS 1.0-1.3 (archiving and publishing) share the element names used here.

Caption text rules (``caption_text``), chosen for CLIP-style training text:

- All text in document order; inline markup (italic, bold, xref, ext-link, named-content, ...)
  is flattened with its surrounding spacing kept ("Student's <italic>t</italic>-test" ->
  "Student's t-test").
- ``<sup>x</sup>`` -> ``^x`` and ``<sub>x</sub>`` -> ``_x`` ("10^4", "CO_2", "K_d"), so numbers
  never fuse. A sup/sub holding only citation xrefs (and separators) is a citation, not an
  exponent: it becomes `` [x]`` ("cells<sup>12</sup>" -> "cells [12]").
- MathML is rendered as readable linear text: token elements in order, ``msup`` -> base^exp,
  ``msub`` -> base_sub, ``mfrac`` -> a/b, ``msqrt`` -> sqrt(x), ``mroot`` -> sqrt[n](x); a
  compound script or fraction operand is parenthesised ("(I_L-I_R)/(I_L+I_R)", "e^(-x)").
  Accents (``mover``/``munder`` whose script is an operator) follow their base ("s̄").
  Invisible times is dropped, function application becomes a space.
- ``<tex-math>`` gives its TeX source without the ``\\documentclass ... \\begin{document}``
  wrapper and ``$`` delimiters. In ``<alternatives>`` MathML wins over TeX; images are skipped.
- Block elements (p, title, list-item, disp-formula, ...) are separated by one space: a caption
  is one line of text. Whitespace runs (including no-break and thin spaces) collapse to one
  space; no leading or trailing space.
- Not caption text: supplementary-material (eLife source-data blurbs), object-id, alt-text,
  long-desc, graphics and media, and eLife's "DOI: http://dx.doi.org/..." paragraphs.

- Entity references left by a DTD we do not load (``&nbsp;``) render as their HTML5 meaning.

Figure records: every ``<fig>`` of the article in document order. ``context`` names the
outermost special container: sub-article, then app, fig-group, floats-group, back, else body.
The caption never comes from another figure; a figure without a caption has caption "". A
leading copy of the label ending in punctuation ("Figure 1." / "Fig. 1:") is removed from the
caption and its title; "Figure 1 shows ..." is left alone. ``fig_id`` is the ``id`` attribute,
``fig-<position>`` when missing, with ``-<position>`` appended to a repeated id. ``href`` is the
graphic that is a child of the fig (or of its ``<alternatives>``), preferring one that is not
a thumbnail (specific-use *thumb*) and not a ``.gif``.

Mentions: sentences of running-text paragraphs (the outermost ``<p>`` under a ``<body>``,
sub-articles included, not inside captions, tables or footnotes) holding an
``<xref ref-type="fig">`` whose ``rid`` list names the figure or its fig-group; document
order, each sentence once. The splitter does not break after abbreviations ("Fig.", "et al.",
"e.g."), single initials, or inside decimals.
"""

from __future__ import annotations

import html.entities
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from lxml import etree

__all__ = [
    "ArticleRecord",
    "FigureRecord",
    "JatsError",
    "caption_text",
    "figure_files",
    "figure_media",
    "parse_article",
    "resolve_href",
]

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
ALI_LICENSE_REF = "{http://www.niso.org/schemas/ali/1.0/}license_ref"


class JatsError(ValueError):
    """Malformed or unsafe article XML: the stage records one error row for the article."""


@dataclass(frozen=True)
class FigureRecord:
    """One ``<fig>``; ``href`` None means the figure carries no graphic."""

    fig_id: str
    label: str | None
    caption_title: str | None
    caption: str
    group_caption: str | None
    mentions: list[str]
    href: str | None
    position: int
    context: str


@dataclass(frozen=True)
class ArticleRecord:
    """Article metadata from ``<article-meta>`` plus all its figures."""

    pmid: str | None
    doi: str | None
    pmcid: str | None
    article_title: str | None
    journal: str | None
    year: int | None
    article_type: str | None
    license_url: str | None
    license_type: str | None
    authors: list[str]
    figures: list[FigureRecord]


# --------------------------------------------------------------------------- parsing

_PARSERS = threading.local()  # lxml parser objects must not be shared between threads


def _parser() -> etree.XMLParser:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,  # keeps libxml2's depth (256) and size limits
        )
    return parser


_XML_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_SINGLE_BYTE_ENCODINGS = frozenset(
    {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "windows-1252", "cp1252"}
)


def _check_declared_encoding(xml: bytes) -> None:
    """Reject UTF-8 bytes labelled as Latin-1: libxml2 would silently produce mojibake."""
    match = _XML_DECL_ENCODING.match(xml[:200])
    if not match or match.group(1).decode("ascii").lower() not in _SINGLE_BYTE_ENCODINGS:
        return
    if xml.isascii():
        return
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError:
        return
    raise JatsError(
        f"XML declares encoding {match.group(1).decode('ascii')!r} but its bytes are UTF-8; "
        "fix the XML declaration"
    )


def _parse_root(xml: bytes) -> etree._Element:
    """Parse with the hardened parser; every failure becomes a JatsError with the reason."""
    if not isinstance(xml, bytes | bytearray | memoryview):
        raise JatsError(f"article XML must be bytes, got {type(xml).__name__}")
    xml = bytes(xml)
    _check_declared_encoding(xml)
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        raise JatsError(f"malformed XML: {exc}") from None
    if root is None:
        raise JatsError("malformed XML: no root element")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise JatsError(
            "XML DOCTYPE declares entities; refusing to parse (entity expansion attack?)"
        )
    return root


def _article_element(root: etree._Element) -> etree._Element:
    """The <article>; accepts an efetch-style <pmc-articleset> wrapper."""
    name = _local(root.tag)
    if name == "article":
        return root
    if name == "pmc-articleset":
        for child in root:
            if isinstance(child.tag, str) and _local(child.tag) == "article":
                return child
    raise JatsError(f"not a JATS article: root element is <{name}>")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def _collapse(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------ text flattening

_BLOCK = frozenset(
    [
        "p",
        "title",
        "list",
        "list-item",
        "def-list",
        "def-item",
        "term",
        "def",
        "disp-quote",
        "disp-formula",
        "disp-formula-group",
        "caption",
        "label",
        "sec",
        "boxed-text",
        "statement",
        "verse-group",
        "verse-line",
        "break",
        "table",
        "tr",
        "td",
        "th",
    ]
)
_SKIP = frozenset(
    [
        "supplementary-material",
        "object-id",
        "alt-text",
        "long-desc",
        "graphic",
        "inline-graphic",
        "media",
        "glyph-data",
        "glyph-ref",
        "permissions",
    ]
)
_CITATION_SEPARATORS = frozenset(" ,;-–—[]()")
_INVISIBLE = str.maketrans({"\u2061": " ", "\u2062": "", "\u2063": "", "\u2064": ""})
_SIMPLE_OPERAND = re.compile(r"[\w.′″']+")
_MARK_FIRST, _MARK_LAST = 0xE000, 0xF8FF  # Private Use Area: one char per fig xref in a paragraph


class _Flattener:
    """Renders mixed content to text; optionally marks fig xrefs for sentence attribution."""

    def __init__(self, mark_fig_xrefs: bool = False) -> None:
        self.out: list[str] = []
        self.mark_fig_xrefs = mark_fig_xrefs
        self.fig_refs: list[list[str]] = []  # rid lists, indexed by marker char - _MARK_FIRST

    def text(self, element: etree._Element) -> str:
        self.render(element)
        return _collapse("".join(self.out))

    def render(self, el: etree._Element) -> None:
        tag = el.tag
        if not isinstance(tag, str):
            if isinstance(el, etree._Entity):
                self.out.append(html.entities.html5.get(el.name + ";", ""))
            return  # comments and processing instructions carry no text
        name = _local(tag)
        if name == "math":
            self.out.append(_math_text(el))
        elif name in _SKIP:
            return
        elif name == "tex-math":
            self.out.append(_tex_text(el))
        elif name == "alternatives":
            choice = _preferred_alternative(el)
            if choice is not None:
                self.render(choice)
        elif name in ("sup", "sub"):
            self._script(el, "^" if name == "sup" else "_")
        elif name in _BLOCK:
            if name == "p" and _is_doi_note(el):
                return
            self.out.append(" ")
            self.children(el)
            self.out.append(" ")
        else:
            if name == "xref" and self.mark_fig_xrefs and el.get("ref-type") == "fig":
                self._mark(el)
            self.children(el)

    def children(self, el: etree._Element) -> None:
        if el.text:
            self.out.append(el.text)
        for child in el:
            self.render(child)
            if child.tail:
                self.out.append(child.tail)

    def _script(self, el: etree._Element, marker: str) -> None:
        start = len(self.out)
        self.children(el)
        raw = "".join(self.out[start:])
        del self.out[start:]
        inner = _collapse(raw)
        if not inner:
            self.out.append(raw)  # whitespace only: keep it as spacing
            return
        inner = f" [{inner.strip('[]()')}]" if _is_citation(el) else marker + inner
        # spacing typed inside the script ("t<sub>L </sub>is") still separates words
        lead = " " if raw[:1].isspace() else ""
        trail = " " if raw[-1:].isspace() else ""
        self.out.append(lead + inner + trail)

    def _mark(self, el: etree._Element) -> None:
        index = len(self.fig_refs)
        if _MARK_FIRST + index <= _MARK_LAST:
            self.fig_refs.append((el.get("rid") or "").split())
            self.out.append(chr(_MARK_FIRST + index))


def _is_citation(el: etree._Element) -> bool:
    """A sup/sub made only of xrefs and separators is a reference mark, not a script."""
    children = [c for c in el if isinstance(c.tag, str)]
    if not children or any(_local(c.tag) != "xref" for c in children):
        return False
    loose = (el.text or "") + "".join(c.tail or "" for c in children)
    return all(ch in _CITATION_SEPARATORS or ch.isspace() for ch in loose)


def _is_doi_note(p: etree._Element) -> bool:
    """eLife's "DOI: http://dx.doi.org/..." paragraph: boilerplate, not caption text."""
    links = [c for c in p if isinstance(c.tag, str) and _local(c.tag) == "ext-link"]
    if len(links) != 1 or links[0].get("ext-link-type") != "doi":
        return False
    return _collapse("".join(p.itertext())).casefold().startswith("doi:")


def _preferred_alternative(el: etree._Element) -> etree._Element | None:
    """MathML beats TeX beats plain text; image alternatives carry no text."""
    children = [c for c in el if isinstance(c.tag, str)]
    for wanted in ("math", "tex-math"):
        for child in children:
            if _local(child.tag) == wanted:
                return child
    for child in children:
        if _local(child.tag) not in _SKIP:
            return child
    return None


def caption_text(element: etree._Element) -> str:
    """Flatten an element's mixed content to one line of text (rules in the module docstring)."""
    return _Flattener().text(element)


_TEX_BODY = re.compile(r"\\begin\{document\}(.*?)(?:\\end\{document\}|$)", re.S)
_TEX_DELIMS = (("$$", "$$"), ("$", "$"), ("\\[", "\\]"), ("\\(", "\\)"))


def _tex_text(el: etree._Element) -> str:
    """TeX source without the LaTeX document wrapper and math delimiters."""
    source = "".join(el.itertext())
    match = _TEX_BODY.search(source)
    body = (match.group(1) if match else source).strip()
    for left, right in _TEX_DELIMS:
        if len(body) > len(left) + len(right) and body.startswith(left) and body.endswith(right):
            body = body[len(left) : -len(right)].strip()
            break
    return _collapse(body)


# ------------------------------------------------------------------------- MathML


def _math_text(el: etree._Element) -> str:
    return _collapse(_mml(el))


def _wrap(text: str) -> str:
    """Parenthesise a compound operand so linear math stays unambiguous."""
    if len(text) <= 1 or _SIMPLE_OPERAND.fullmatch(text):
        return text
    return f"({text})"


def _mml(el: etree._Element) -> str:
    name = _local(el.tag)
    kids = [c for c in el if isinstance(c.tag, str)]
    if name in ("mi", "mn", "mo", "ms", "mtext"):
        return "".join(el.itertext()).strip().translate(_INVISIBLE)
    if name == "mspace":
        return " "
    if name in ("annotation", "annotation-xml", "mphantom", "none", "mprescripts"):
        return ""
    if name == "semantics":
        return _mml(kids[0]) if kids else ""
    parts = [_mml(k) for k in kids]
    if name in _MML_LAYOUT and len(parts) >= _MML_LAYOUT[name]:
        return _mml_layout(name, kids, parts)
    if name == "msqrt":
        return f"sqrt({''.join(parts)})"
    if name == "mfenced":
        separator = (el.get("separators") or ",").strip()[:1]
        return el.get("open", "(") + separator.join(parts) + el.get("close", ")")
    if name == "mtable":
        return "; ".join(parts)
    if name in ("mtr", "mlabeledtr"):
        return ", ".join(parts)
    return "".join(parts)


_MML_LAYOUT = {  # element -> number of arguments
    "msup": 2,
    "msub": 2,
    "msubsup": 3,
    "mfrac": 2,
    "mroot": 2,
    "mover": 2,
    "munder": 2,
    "munderover": 3,
}


def _mml_layout(name: str, kids: list[etree._Element], parts: list[str]) -> str:
    """Two- and three-argument MathML layouts in linear notation."""
    base = parts[0]
    if name == "msup":
        return f"{base}^{_wrap(parts[1])}"
    if name == "msub":
        return f"{base}_{_wrap(parts[1])}"
    if name in ("msubsup", "munderover"):
        return f"{base}_{_wrap(parts[1])}^{_wrap(parts[2])}"
    if name == "mfrac":
        return f"{_wrap(parts[0])}/{_wrap(parts[1])}"
    if name == "mroot":
        return f"sqrt[{parts[1]}]({base})"
    accent = _local(kids[1].tag) == "mo"  # mover / munder: an operator script is an accent
    if accent:
        return base + parts[1]
    return f"{base}{'^' if name == 'mover' else '_'}{_wrap(parts[1])}"


# -------------------------------------------------------------------------- figures

_CONTEXT_PRIORITY = ("sub-article", "app", "fig-group", "floats-group", "back")
_LABEL_PUNCTUATION = ".:;|–—-"


def _strip_label(text: str, label: str | None) -> str:
    """Drop a leading copy of the label ("Figure 1." / "Figure 1:") from a caption.

    The copy must end in punctuation, so running text such as "Figure 1 shows ..." stays.
    """
    if not label or not text:
        return text
    core = label.rstrip(" " + _LABEL_PUNCTUATION)
    for candidate in dict.fromkeys((label, core)):
        if not candidate or text[: len(candidate)].casefold() != candidate.casefold():
            continue
        rest = text[len(candidate) :]
        if candidate[-1] in _LABEL_PUNCTUATION:
            return rest.lstrip()
        if not rest or rest[0] in _LABEL_PUNCTUATION:
            return rest[1:].lstrip()
    return text


def _context(fig: etree._Element) -> str:
    """Where the figure stands; the outermost meaningful container wins (see priority)."""
    ancestors = {a.tag for a in fig.iterancestors() if isinstance(a.tag, str)}
    for name in _CONTEXT_PRIORITY:
        if name in ancestors:
            return name
    return "body"


def _graphic_href(fig: etree._Element) -> str | None:
    """xlink:href of the fig's full-size graphic: not a thumbnail, not a .gif when avoidable."""
    candidates: list[tuple[bool, bool, int, str]] = []
    for child in fig:
        if not isinstance(child.tag, str):
            continue
        name = _local(child.tag)
        graphics = [child] if name == "graphic" else []
        if name == "alternatives":
            graphics = [g for g in child if isinstance(g.tag, str) and _local(g.tag) == "graphic"]
        for graphic in graphics:
            href = (graphic.get(XLINK_HREF) or graphic.get("href") or "").strip()
            if href:
                thumb = "thumb" in (graphic.get("specific-use") or "").lower()
                gif = href.lower().endswith(".gif")
                candidates.append((thumb, gif, len(candidates), href))
    return min(candidates)[3] if candidates else None


def _child(el: etree._Element, name: str) -> etree._Element | None:
    for child in el:
        if isinstance(child.tag, str) and _local(child.tag) == name:
            return child
    return None


def _text_or_none(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    return caption_text(el) or None


def _caption_parts(owner: etree._Element, label: str | None) -> tuple[str | None, str]:
    """(title, full caption) of a fig or fig-group, each without a leading copy of the label."""
    caption = _child(owner, "caption")
    if caption is None:
        return None, ""
    title_el = _child(caption, "title")
    title = _strip_label(caption_text(title_el), label) if title_el is not None else ""
    return title or None, _strip_label(caption_text(caption), label)


def _unique_id(fig: etree._Element, position: int, used: set[str]) -> str:
    """The fig's id, or fig-<position>; a repeated id gets -<position> so keys never collide."""
    fig_id = (fig.get("id") or "").strip() or f"fig-{position}"
    while fig_id in used:
        fig_id = f"{fig_id}-{position}"
    used.add(fig_id)
    return fig_id


def _figures(article: etree._Element) -> list[FigureRecord]:
    mentions = _mentions_by_id(article)
    used: set[str] = set()
    records = []
    for position, fig in enumerate(article.iter("fig")):
        label = _text_or_none(_child(fig, "label"))
        title, caption = _caption_parts(fig, label)
        group = next(fig.iterancestors("fig-group"), None)
        group_caption = None
        cited_as = [fig.get("id")]
        if group is not None:
            group_caption = _caption_parts(group, _text_or_none(_child(group, "label")))[1] or None
            cited_as.append(group.get("id"))
        records.append(
            FigureRecord(
                fig_id=_unique_id(fig, position, used),
                label=label,
                caption_title=title,
                caption=caption,
                group_caption=group_caption,
                mentions=_merge_mentions(mentions, cited_as),
                href=_graphic_href(fig),
                position=position,
                context=_context(fig),
            )
        )
    return records


# ------------------------------------------------------------------------- mentions

_NOT_RUNNING_TEXT = frozenset(
    {"caption", "fig", "fig-group", "table-wrap", "supplementary-material", "fn", "ref-list"}
)
_SENTENCE_END = re.compile(
    r"[.!?][\"'”’)\]]*\s+(?=[\uE000-\uF8FF]*[\"'“‘(\[]?[\uE000-\uF8FF]*[A-Z0-9])"
)
_ABBREVIATIONS = frozenset(
    [
        "fig",
        "figs",
        "al",
        "e.g",
        "i.e",
        "cf",
        "vs",
        "ca",
        "approx",
        "ref",
        "refs",
        "eq",
        "eqs",
        "no",
        "nos",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "suppl",
        "supp",
        "sp",
        "spp",
        "ssp",
        "subsp",
        "var",
        "cv",
        "resp",
        "tab",
        "vol",
        "p",
        "pp",
        "sec",
        "sect",
        "ch",
        "inc",
        "ltd",
        "co",
        "corp",
        "jr",
    ]
)
_MARKS = re.compile(r"[\uE000-\uF8FF]")


def _running_paragraph(xref: etree._Element) -> etree._Element | None:
    """The outermost <p> of a <body> around the xref, unless it is in a caption, table, note..."""
    paragraph = None
    for ancestor in xref.iterancestors():
        tag = ancestor.tag
        if tag in _NOT_RUNNING_TEXT:
            return None
        if tag == "p":
            paragraph = ancestor
        elif tag == "body":
            return paragraph
    return None


def _is_sentence_end(text: str, period: int) -> bool:
    """False for "Fig. 2", "et al. (2001)", "e.g. The", initials like "J. Smith"."""
    if text[period] != ".":
        return True
    word = _MARKS.sub("", text[:period].rsplit(None, 1)[-1] if text[:period].strip() else "")
    word = word.lstrip("([{\"'“‘")
    if not word:
        return True
    if len(word) == 1 and word.isalpha():
        return False
    return word.lower() not in _ABBREVIATIONS


def _sentences(text: str) -> Iterator[str]:
    """Split running text into sentences without breaking at abbreviations or decimals."""
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if _is_sentence_end(text, match.start()):
            yield text[start : match.end()].strip()
            start = match.end()
    if text[start:].strip():
        yield text[start:].strip()


def _mentions_by_id(article: etree._Element) -> dict[str, list[str]]:
    """Every running-text sentence citing each figure id, in document order."""
    paragraphs: dict[etree._Element, None] = {}
    for xref in article.iter("xref"):
        if xref.get("ref-type") == "fig":
            paragraph = _running_paragraph(xref)
            if paragraph is not None:
                paragraphs[paragraph] = None
    found: dict[str, list[str]] = {}
    for paragraph in paragraphs:
        flattener = _Flattener(mark_fig_xrefs=True)
        text = flattener.text(paragraph)
        refs = flattener.fig_refs
        for sentence in _sentences(text):
            cited = {rid for m in _MARKS.findall(sentence) for rid in refs[ord(m) - _MARK_FIRST]}
            clean = _collapse(_MARKS.sub("", sentence))
            for rid in cited:
                found.setdefault(rid, []).append(clean)
    return found


def _merge_mentions(mentions: dict[str, list[str]], ids: Iterable[str | None]) -> list[str]:
    """Sentences citing any of the ids, in document order, each once."""
    merged: dict[str, None] = {}
    for fig_id in ids:
        for sentence in mentions.get(fig_id or "", ()):
            merged[sentence] = None
    return list(merged)


# ---------------------------------------------------------------- article metadata

_PMCID = re.compile(r"^(?:PMC)?(\d+)$", re.I)
_DOI_PREFIX = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)", re.I)
_YEAR = re.compile(r"\d{4}")


def _article_ids(meta: etree._Element) -> dict[str, str]:
    ids: dict[str, str] = {}
    for el in meta.iterchildren("article-id"):
        kind = (el.get("pub-id-type") or "").lower()
        value = _collapse("".join(el.itertext()))
        if value and kind not in ids:
            ids[kind] = value
    return ids


def _normalise_pmcid(value: str | None) -> str | None:
    match = _PMCID.match(value or "")
    return f"PMC{match.group(1)}" if match else None


def _journal_title(article: etree._Element) -> str | None:
    journal_meta = article.find("front/journal-meta")
    if journal_meta is None:
        return None
    title = journal_meta.find("journal-title-group/journal-title")
    if title is None:
        title = journal_meta.find("journal-title")
    return _text_or_none(title)


def _pub_date_kind(date: etree._Element) -> str:
    """Map NLM pub-type and JATS 1.1+ date-type/publication-format onto epub/ppub/collection."""
    kind = date.get("pub-type") or date.get("date-type") or ""
    if kind in ("pub", "publication"):
        return {"print": "ppub"}.get(date.get("publication-format") or "", "epub")
    return kind


def _year(meta: etree._Element) -> int | None:
    """Publication year: epub, then ppub, then collection, then any pub-date."""
    years: dict[str, int] = {}
    fallback = None
    for date in meta.iterchildren("pub-date"):
        match = _YEAR.search(date.findtext("year") or "")
        if not match:
            continue
        years.setdefault(_pub_date_kind(date), int(match.group()))
        fallback = fallback or int(match.group())
    for kind in ("epub", "ppub", "collection"):
        if kind in years:
            return years[kind]
    return fallback


def _license(meta: etree._Element) -> tuple[str | None, str | None]:
    """(url, license-type): license@xlink:href, ali:license_ref, then a link in its text."""
    license_el = meta.find("permissions/license")
    if license_el is None:
        return None, None
    url = (license_el.get(XLINK_HREF) or license_el.get("href") or "").strip()
    if not url:
        ref = license_el.find(ALI_LICENSE_REF)
        url = _collapse("".join(ref.itertext())) if ref is not None else ""
    if not url:
        for link in license_el.iter("ext-link", "uri"):
            text = "".join(link.itertext()) if link.tag == "uri" else ""
            url = (link.get(XLINK_HREF) or text).strip()
            if url:
                break
    return url or None, license_el.get("license-type")


# ------------------------------------------------------------------------- authors

# Inside a <collab>: its members, notes and addresses are not part of its name.
_NOT_COLLAB_NAME = frozenset(
    {"contrib-group", "contrib", "xref", "fn", "address", "email", "aff", "uri", "ext-link"}
)


def _own_text(el: etree._Element, skip: frozenset[str]) -> str:
    """Text of ``el`` in document order, leaving out ``skip`` elements (their tails stay)."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and _local(child.tag) not in skip:
            parts.append(_own_text(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def _name_part(name: etree._Element, part: str) -> str:
    el = _child(name, part)
    return _collapse(_own_text(el, frozenset())) if el is not None else ""


def _person_name(name: etree._Element) -> str:
    """A <name> as it is read: "Given Surname Suffix"; eastern style "Surname Given"."""
    given, surname = _name_part(name, "given-names"), _name_part(name, "surname")
    style = name.get("name-style") or "western"
    if style == "given-only":
        ordered = [given or surname]
    elif style == "eastern":
        ordered = [surname, given]
    else:
        ordered = [given, surname]
    return " ".join(p for p in [*ordered, _name_part(name, "suffix")] if p)


def _contrib_name(contrib: etree._Element) -> str:
    """One contributor's display name: a person's name, else a collaboration's own name."""
    holders = [contrib]
    alternatives = _child(contrib, "name-alternatives")
    if alternatives is not None:
        holders.append(alternatives)
    for holder in holders:
        person = _child(holder, "name")
        if person is not None:
            return _person_name(person)
    for holder in holders:
        string_name = _child(holder, "string-name")
        if string_name is not None:
            return _collapse(_own_text(string_name, frozenset()))
    collab = _child(contrib, "collab")
    alternatives = _child(contrib, "collab-alternatives")
    if collab is None and alternatives is not None:
        collab = _child(alternatives, "collab")
    return _collapse(_own_text(collab, _NOT_COLLAB_NAME)) if collab is not None else ""


def _authors(meta: etree._Element) -> list[str]:
    """The article's authors in byline order: the <contrib-group>s of <article-meta>,
    contributors typed author (or untyped), never editors or reviewers; a collaboration by
    its name, without the members nested in it. Attribution under CC BY names them."""
    names = []
    for group in meta.iterchildren("contrib-group"):
        for contrib in group.iterchildren("contrib"):
            kind = (contrib.get("contrib-type") or "author").strip().lower()
            if kind == "author" and (name := _contrib_name(contrib)):
                names.append(name)
    return names


def parse_article(xml: bytes) -> ArticleRecord:
    """Parse one article's XML into metadata and figure records; raises JatsError."""
    article = _article_element(_parse_root(xml))
    meta = article.find("front/article-meta")
    if meta is None:
        meta = etree.Element("article-meta")
    ids = _article_ids(meta)
    doi = _DOI_PREFIX.sub("", ids["doi"]) if "doi" in ids else None
    license_url, license_type = _license(meta)
    return ArticleRecord(
        pmid=ids.get("pmid"),
        doi=doi,
        pmcid=_normalise_pmcid(ids.get("pmc") or ids.get("pmcid")),
        article_title=_text_or_none(meta.find("title-group/article-title")),
        journal=_journal_title(article),
        year=_year(meta),
        article_type=article.get("article-type"),
        license_url=license_url,
        license_type=license_type,
        authors=_authors(meta),
        figures=_figures(article),
    )


# ------------------------------------------------------------------ href resolution

_IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp", "tif", "tiff", "gif")  # preference order


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def _href_stems(href: str) -> list[str]:
    """Names the href may stand for: its last path segment, minus an image extension."""
    last = _basename(href.strip())
    stems = [last]
    if _extension(last) in _IMAGE_EXTENSIONS:
        stems.append(last.rpartition(".")[0])
    if last.startswith("journal."):  # PLOS info:doi/10.1371/journal.pone.X.g001 -> pone.X.g001
        stems.append(last[len("journal.") :])
    return stems


def resolve_href(href: str, names: Iterable[str]) -> str | None:
    """Pick the media file (as given in ``names``) that a <graphic> href points to.

    Exact file name first (case-sensitive, then case-insensitive), then the stem plus an image
    extension, preferring full-size jpg/jpeg/png/webp/tif/tiff over a .gif thumbnail. Only image
    files are ever returned; names may be paths (matched on their base name).
    """
    if not href or not href.strip():
        return None
    images: dict[str, str] = {}
    for name in names:
        base = _basename(name)
        if _extension(base) in _IMAGE_EXTENSIONS:
            images.setdefault(base, name)
    folded: dict[str, str] = {}
    for base, name in images.items():
        folded.setdefault(base.casefold(), name)
    last = _basename(href.strip())
    if last in images:
        return images[last]
    if last.casefold() in folded:
        return folded[last.casefold()]
    for stem in _href_stems(href):
        for ext in _IMAGE_EXTENSIONS:
            hit = folded.get(f"{stem}.{ext}".casefold())
            if hit is not None:
                return hit
    return None


def figure_files(figures: Iterable[FigureRecord], names: Iterable[str]) -> list[str | None]:
    """The file of ``names`` each figure's graphic resolves to (None: no graphic, or no match).

    The one resolver of figures to files: extract decodes exactly these files and fetch
    downloads exactly these (:func:`figure_media`), so a bundle holds what extract looks for.
    """
    return _resolved([fig.href for fig in figures], names)


def figure_media(xml: bytes, names: Sequence[str]) -> list[str]:
    """The names (a subset of ``names``, in their order) that the article's figures need.

    Equations, inline graphics, table images and thumbnails are left out. Reads only the
    figures' graphics (the same <fig>s and graphic choice as :func:`parse_article`), not
    their captions and mentions: fetch runs this on every article before extract parses it
    in full. Raises JatsError when the XML does not parse.
    """
    article = _article_element(_parse_root(xml))
    wanted = set(_resolved([_graphic_href(fig) for fig in article.iter("fig")], names))
    return [name for name in names if name in wanted]


def _resolved(hrefs: Iterable[str | None], names: Iterable[str]) -> list[str | None]:
    names = list(names)
    return [resolve_href(href, names) if href else None for href in hrefs]
