"""JATS parsing: real corpus articles (every DTD family), markup snippets, hostile XML, keys."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import pytest

from pmc_pipeline.jats import (
    ArticleRecord,
    FigureRecord,
    JatsError,
    caption_text,
    parse_article,
    resolve_href,
)
from pmc_pipeline.keys import InvalidKeyError, panel_key, sample_key
from tests.jats_expected import EXPECTED_AUTHORS, EXPECTED_CAPTIONS

# ------------------------------------------------------------------------ helpers

XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
MML = 'xmlns:mml="http://www.w3.org/1998/Math/MathML"'


def article(body: str = "", front: str = "", back: str = "", extra: str = "") -> bytes:
    """A minimal JATS article around the given fragments."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<article {XLINK} {MML} article-type="research-article">'
        f"<front><article-meta>{front}</article-meta></front>"
        f"<body>{body}</body><back>{back}</back>{extra}</article>"
    ).encode()


def figures(body: str = "", **kw: str) -> list[FigureRecord]:
    return parse_article(article(body, **kw)).figures


def flat(fragment: str) -> str:
    """The caption text of a figure whose <caption> holds the fragment."""
    fig = figures(f'<fig id="f"><caption>{fragment}</caption></fig>')[0]
    return fig.caption


@cache
def manifest(corpus_dir: Path) -> dict[str, dict]:
    data = json.loads((corpus_dir / "manifest.json").read_text())
    return {a["id"]: a for a in data["articles"]}


@cache
def parsed(corpus_dir: Path, article_id: str) -> ArticleRecord:
    return parse_article((corpus_dir / article_id / "article.nxml").read_bytes())


# ------------------------------------------------------------- corpus: structure


def test_every_corpus_article_matches_the_manifest_figures(corpus_dir: Path) -> None:
    for article_id, entry in manifest(corpus_dir).items():
        record = parsed(corpus_dir, article_id)
        figs = record.figures
        assert len(figs) == entry["n_fig"], article_id
        assert sum(f.href is not None for f in figs) == entry["n_graphic_in_fig"], article_id
        assert [f.fig_id for f in figs] == [m["fig_id"] for m in entry["figures"]], article_id
        assert [f.href for f in figs] == [m["href"] for m in entry["figures"]], article_id
        assert [f.label for f in figs] == [m["label"] for m in entry["figures"]], article_id
        assert [f.position for f in figs] == list(range(len(figs)))
        in_group = [f.context == "fig-group" for f in figs]
        assert in_group == [m["in_fig_group"] for m in entry["figures"]], article_id
        assert sum(f.context == "sub-article" for f in figs) == entry["n_fig_in_sub_article"]


def test_resolve_href_finds_the_manifest_file_for_every_figure(corpus_dir: Path) -> None:
    checked = 0
    for article_id, entry in manifest(corpus_dir).items():
        names = sorted(os.listdir(corpus_dir / article_id))
        as_paths = [f"PMC0/{article_id}/{n}" for n in names]
        for fig in entry["figures"]:
            assert resolve_href(fig["href"], names) == fig["file"], (article_id, fig)
            expected_path = f"PMC0/{article_id}/{fig['file']}" if fig["file"] else None
            assert resolve_href(fig["href"], as_paths) == expected_path
            checked += 1
    assert checked == 168


def test_article_metadata_matches_the_manifest(corpus_dir: Path) -> None:
    for article_id, entry in manifest(corpus_dir).items():
        record = parsed(corpus_dir, article_id)
        ids = entry["article_ids"]
        assert record.pmid == ids.get("pmid"), article_id
        assert record.doi == ids.get("doi"), article_id
        pmc = ids.get("pmc")
        assert record.pmcid == (f"PMC{pmc.removeprefix('PMC')}" if pmc else None), article_id
        assert record.article_title == entry["title"], article_id
        assert record.journal == entry["journal"], article_id
        assert record.article_type == entry["article_type"], article_id
        assert record.license_type == entry["license"]["license_type"], article_id
        if article_id == "PMC3062852":  # the licence link sits in <license-p><ext-link>
            expected = "http://www.elsevier.com/wps/find/authorsview.authors/supplementalterms1.0"
            assert record.license_url == expected
        else:
            assert record.license_url == entry["license"]["url"], article_id


@pytest.mark.parametrize(
    ("article_id", "year"),
    [("PMC3574550", 2012), ("PMC2599765", 2008), ("elife-30274-v1", 2018), ("PMC1790863", 2007)],
)
def test_year_prefers_epub(corpus_dir: Path, article_id: str, year: int) -> None:
    # PMC3574550: epub 2012 beats ppub 2013; elife: JATS 1.1 date-type="publication"
    assert parsed(corpus_dir, article_id).year == year


def test_every_corpus_article_parses(corpus_dir: Path) -> None:
    """All 28 articles parse; speed is measured outside the tests, never asserted."""
    records = [
        parse_article((corpus_dir / a / "article.nxml").read_bytes()) for a in manifest(corpus_dir)
    ]
    assert sum(len(r.figures) for r in records) == 168


# ----------------------------------------------------- corpus: hand-checked captions

FAMILY_DOCTYPES = {
    "NLM 2.3 archiving": "Archiving and Interchange DTD v2.3",
    "NLM 3.0 archiving": "Archiving and Interchange DTD v3.0",
    "NLM 3.0 publishing": "Journal Publishing DTD v3.0",
    "JATS 1.0 archiving": "Archiving and Interchange DTD v1.0",
    "JATS 1.1d1/1.1d3": "DTD v1.1d",
    "JATS 1.1 archiving": "Archiving and Interchange DTD v1.1 ",
    "JATS 1.2 archiving": "with MathML3 v1.2",
    "JATS 1.3 archiving": "with MathML3 v1.3",
}


def _caption_cases(family: str) -> list[tuple[str, str, object]]:
    return [
        (article_id, fig_id, expected)
        for article_id, figs in EXPECTED_CAPTIONS[family].items()
        for fig_id, expected in figs.items()
    ]


def _check_family(corpus_dir: Path, family: str) -> None:
    for article_id, fig_id, expected in _caption_cases(family):
        assert FAMILY_DOCTYPES[family] in manifest(corpus_dir)[article_id]["doctype_public_id"]
        fig = next(f for f in parsed(corpus_dir, article_id).figures if f.fig_id == fig_id)
        if isinstance(expected, tuple):
            head, tail, length = expected
            assert fig.caption[:120] == head, (article_id, fig_id)
            assert fig.caption[-120:] == tail, (article_id, fig_id)
            assert len(fig.caption) == length, (article_id, fig_id)
        else:
            assert fig.caption == expected, (article_id, fig_id)


def test_captions_nlm_2_3(corpus_dir: Path) -> None:
    _check_family(corpus_dir, "NLM 2.3 archiving")


def test_captions_nlm_3_0_archiving(corpus_dir: Path) -> None:
    _check_family(corpus_dir, "NLM 3.0 archiving")


def test_captions_nlm_3_0_publishing(corpus_dir: Path) -> None:
    _check_family(corpus_dir, "NLM 3.0 publishing")


def test_captions_jats_1_0(corpus_dir: Path) -> None:
    _check_family(corpus_dir, "JATS 1.0 archiving")


def test_captions_jats_1_1_drafts(corpus_dir: Path) -> None:
    _check_family(corpus_dir, "JATS 1.1d1/1.1d3")


def test_captions_jats_1_1(corpus_dir: Path) -> None:
    _check_family(corpus_dir, "JATS 1.1 archiving")


def test_captions_jats_1_2(corpus_dir: Path) -> None:
    _check_family(corpus_dir, "JATS 1.2 archiving")


def test_captions_jats_1_3(corpus_dir: Path) -> None:
    _check_family(corpus_dir, "JATS 1.3 archiving")


def test_hand_checked_captions_cover_every_article_with_figures(corpus_dir: Path) -> None:
    covered: dict[str, int] = {}
    for family in EXPECTED_CAPTIONS.values():
        for article_id, figs in family.items():
            covered[article_id] = covered.get(article_id, 0) + len(figs)
    for article_id, entry in manifest(corpus_dir).items():
        if entry["n_fig"]:
            assert covered.get(article_id, 0) >= min(2, entry["n_fig"]), article_id


def test_corpus_titles_and_missing_labels(corpus_dir: Path) -> None:
    fig = parsed(corpus_dir, "elife-46472-v3").figures[0]
    assert fig.caption_title == (
        "Knock-in of Taar1^+ converts high MA intake to low MA intake, "
        "but does not impact total volume of fluid consumed."
    )
    only = parsed(corpus_dir, "elife-00353-v1").figures[0]
    assert only.label is None and only.caption_title is None
    assert "ILLUSTRATION" not in only.caption  # <attrib> is not caption text


# ------------------------------------------------------------- corpus: mentions


def test_mentions_elife(corpus_dir: Path) -> None:
    figs = {f.fig_id: f for f in parsed(corpus_dir, "elife-30274-v1").figures}
    assert figs["fig1"].mentions == [
        "For cells maintained in both lots of serum, treatment with tetracycline resulted in a "
        "strong decrease in c-Myc protein levels (Figure 1A).",
        "Total RNA was isolated from P493-6 cells 0, 1, and 24 hr after tetracycline release and "
        "the amount of RNA per 1,000 cells was quantified (Figure 1B).",
    ]
    assert figs["fig3"].mentions[0] == (
        "A meta-analysis (Figure 3A) of these effects resulted in d = 2.52, 95% CI [0.01, 5.03], "
        "which was statistically significant (p=0.0488)."
    )
    assert len(figs["fig3"].mentions) == 3
    # a sentence citing "Figure 2, Figure 2—figure supplement 1" is a mention of both
    assert figs["fig2s1"].mentions[0] in figs["fig2"].mentions


def test_mentions_plos(corpus_dir: Path) -> None:
    figs = {f.fig_id: f for f in parsed(corpus_dir, "pone.0091296").figures}
    assert figs["pone-0091296-g001"].mentions == [
        "Studies focused on the communities of Ahus Island (Manus Province) and Muluk and Wadau "
        "villages, Karkar Island (Madang Province) (Figure 1)."
    ]
    assert figs["pone-0091296-g002"].mentions == [
        "Reported catch rates of snappers tended to be greater than those of emperors and "
        "groupers (Figure 2)."
    ]
    pcbi = {f.fig_id: f for f in parsed(corpus_dir, "pcbi.1004082").figures}
    mentions = pcbi["pcbi.1004082.g002"].mentions
    assert mentions[0] == "For (1) we assume the common linear readout model (Fig. 2A)."
    assert "(Fig. 2C)." in mentions[1] and len(mentions) == 7


def test_mentions_render_citation_superscripts(corpus_dir: Path) -> None:
    fig3 = next(f for f in parsed(corpus_dir, "PMC11471772").figures if f.fig_id == "Fig3")
    assert any("receptor CSF1R [46,47], microglia" in m for m in fig3.mentions)


# --------------------------------------------------------------- inline markup


def test_inline_markup_keeps_spacing() -> None:
    assert flat("<p>Student's <italic>t</italic>-test</p>") == "Student's t-test"
    assert flat("<p><bold>A <italic>nested</italic></bold><italic> run</italic>.</p>") == (
        "A nested run."
    )
    assert flat("<p>see <xref ref-type='fig' rid='f'>Figure 2B</xref>.</p>") == "see Figure 2B."


def test_superscripts_and_subscripts_never_fuse_numbers() -> None:
    assert flat("<p>10<sup>4</sup> cells</p>") == "10^4 cells"
    assert flat("<p>CO<sub>2</sub> and Ca<sup>2+</sup></p>") == "CO_2 and Ca^2+"
    assert flat("<p><italic>t</italic><sub>L </sub>is 5</p>") == "t_L is 5"
    citation = (
        "<p>cells<sup><xref ref-type='bibr' rid='b1'>1</xref>,<xref rid='b2'>2</xref></sup>.</p>"
    )
    assert flat(citation) == "cells [1,2]."


def test_mathml_is_linearised() -> None:
    def math(inner: str) -> str:
        return flat(f"<p>x <inline-formula><mml:math>{inner}</mml:math></inline-formula> y</p>")

    power = "<mml:msup><mml:mi>e</mml:mi><mml:mrow><mml:mo>-</mml:mo><mml:mi>x</mml:mi></mml:mrow>"
    assert math(power + "</mml:msup>") == "x e^(-x) y"
    frac = (
        "<mml:mfrac><mml:mrow><mml:mi>a</mml:mi><mml:mo>+</mml:mo><mml:mi>b</mml:mi></mml:mrow>"
        "<mml:mn>2</mml:mn></mml:mfrac>"
    )
    assert math(frac) == "x (a+b)/2 y"
    assert math("<mml:msqrt><mml:mi>n</mml:mi></mml:msqrt>") == "x sqrt(n) y"
    sub_sup = "<mml:msubsup><mml:mi>d</mml:mi><mml:mi>i</mml:mi><mml:mn>2</mml:mn></mml:msubsup>"
    assert math(sub_sup) == "x d_i^2 y"
    accent = "<mml:mover><mml:mi>s</mml:mi><mml:mo>\u0302</mml:mo></mml:mover>"
    assert math(accent) == "x s\u0302 y"
    invisible = "<mml:mi>d</mml:mi><mml:mo>\u2062</mml:mo><mml:mi>c</mml:mi>"
    assert math(invisible) == "x dc y"
    semantics = (
        "<mml:semantics><mml:mi>k</mml:mi><mml:annotation encoding='TeX'>k</mml:annotation>"
        "</mml:semantics>"
    )
    assert math(semantics) == "x k y"


def test_tex_math_drops_the_latex_wrapper_and_alternatives_prefer_mathml() -> None:
    tex = (
        "<tex-math>\\documentclass[12pt]{minimal}\n\\usepackage{amsmath}\n"
        "\\begin{document}$$ 2^{-\\Delta C_{t}} $$\\end{document}</tex-math>"
    )
    alternatives = f"<alternatives>{tex}<inline-graphic xlink:href='a.gif'/></alternatives>"
    assert flat(f"<p>(<inline-formula>{alternatives}</inline-formula>)</p>") == (
        "(2^{-\\Delta C_{t}})"
    )
    both = f"<alternatives>{tex}<mml:math><mml:mi>z</mml:mi></mml:math></alternatives>"
    assert flat(f"<p>v <inline-formula>{both}</inline-formula></p>") == "v z"


def test_blocks_are_separated_by_one_space() -> None:
    caption = (
        "<title>Title.</title><p>First.</p><list><list-item><p>one</p></list-item>"
        "<list-item><p>two</p></list-item></list><p>Last\u00a0word\n  here.</p>"
    )
    assert flat(caption) == "Title. First. one two Last word here."


def test_not_caption_text_is_dropped() -> None:
    caption = (
        "<p>Body <inline-graphic xlink:href='e1.gif'/>text.</p>"
        "<p><supplementary-material id='s1'><label>Source data 1.</label>"
        "<caption><title>Blots.</title></caption></supplementary-material></p>"
        "<p><bold>DOI:</bold> <ext-link ext-link-type='doi' xlink:href='10.7554/x'>"
        "http://dx.doi.org/10.7554/x</ext-link></p><!-- note --><?pi x?>"
    )
    assert flat(caption) == "Body text."


def test_label_copy_is_stripped_but_running_text_is_not() -> None:
    def caption(label: str, text: str) -> FigureRecord:
        return figures(f'<fig id="f"><label>{label}</label><caption>{text}</caption></fig>')[0]

    fig = caption("Figure 1.", "<title>Figure 1. Cells.</title><p>Body.</p>")
    assert (fig.caption_title, fig.caption) == ("Cells.", "Cells. Body.")
    assert caption("Figure 1", "<p>Figure 1: Cells.</p>").caption == "Cells."
    assert caption("Fig. 2", "<p>FIG. 2. Cells.</p>").caption == "Cells."
    assert caption("Figure 1", "<p>Figure 1 shows cells.</p>").caption == "Figure 1 shows cells."
    assert caption("Figure 1", "<p>Figure 10. Other.</p>").caption == "Figure 10. Other."


def test_caption_text_is_reusable_on_any_element() -> None:
    from lxml import etree

    el = etree.fromstring(b"<title>A <italic>b</italic><sup>2</sup>  c</title>")
    assert caption_text(el) == "A b^2 c"


# ------------------------------------------------------------------ figure records


def test_missing_caption_is_empty_never_borrowed() -> None:
    figs = figures(
        '<fig id="a"><label>Figure 1</label><caption><p>First.</p></caption>'
        '<graphic xlink:href="a"/></fig>'
        '<fig id="b"><label>Figure 2</label><graphic xlink:href="b"/></fig>'
        '<fig id="c"><caption/><graphic xlink:href="c"/></fig>'
    )
    assert [(f.caption, f.caption_title) for f in figs] == [
        ("First.", None),
        ("", None),
        ("", None),
    ]


def test_graphic_choice_and_figures_without_graphic() -> None:
    figs = figures(
        '<fig id="thumb"><graphic specific-use="thumb" xlink:href="t1.jpg"/>'
        '<graphic xlink:href="full1"/></fig>'
        '<fig id="gif"><graphic xlink:href="x.gif"/><graphic xlink:href="x.jpg"/></fig>'
        '<fig id="alt"><alternatives><graphic specific-use="web-thumb" xlink:href="s"/>'
        '<graphic xlink:href="big"/></alternatives></fig>'
        '<fig id="onlythumb"><graphic specific-use="print-thumb" xlink:href="p"/></fig>'
        '<fig id="video"><media xlink:href="v.mp4"/></fig>'
        '<fig id="formula"><caption><p><disp-formula><graphic xlink:href="eq"/></disp-formula>'
        "</p></caption></fig>"
    )
    assert [(f.fig_id, f.href) for f in figs] == [
        ("thumb", "full1"),
        ("gif", "x.jpg"),
        ("alt", "big"),
        ("onlythumb", "p"),
        ("video", None),
        ("formula", None),
    ]


def test_only_fig_elements_are_figures() -> None:
    body = (
        '<table-wrap id="t1"><graphic xlink:href="t001"/></table-wrap>'
        '<p>x <inline-graphic xlink:href="e001"/></p>'
        '<disp-formula><graphic xlink:href="e002"/></disp-formula>'
        '<supplementary-material><graphic xlink:href="s001"/></supplementary-material>'
    )
    assert figures(body) == []


def test_ids_are_stable_and_unique() -> None:
    figs = figures('<fig><caption><p>a</p></caption></fig><fig id="x"/><fig id="x"/><fig id=" "/>')
    assert [f.fig_id for f in figs] == ["fig-0", "x", "x-2", "fig-3"]
    again = figures('<fig><caption><p>a</p></caption></fig><fig id="x"/><fig id="x"/><fig id=" "/>')
    assert [f.fig_id for f in again] == ["fig-0", "x", "x-2", "fig-3"]


def test_contexts_and_group_caption() -> None:
    group = (
        '<fig-group id="g1"><label>Figure 1</label><caption><title>Figure 1. Group.</title>'
        '<p>Shared.</p></caption><fig id="g1a"/><fig id="g1b"/></fig-group>'
    )
    back = '<app-group><app><fig id="app1"/></app></app-group><sec><fig id="back1"/></sec>'
    extra = (
        '<floats-group><fig id="float1"/></floats-group>'
        '<sub-article><body><fig id="resp1"/></body></sub-article>'
    )
    figs = figures(f'<fig id="body1"/>{group}', back=back, extra=extra)
    assert [(f.fig_id, f.context) for f in figs] == [
        ("body1", "body"),
        ("g1a", "fig-group"),
        ("g1b", "fig-group"),
        ("app1", "app"),
        ("back1", "back"),
        ("float1", "floats-group"),
        ("resp1", "sub-article"),
    ]
    assert figs[1].group_caption == figs[2].group_caption == "Group. Shared."
    assert figs[0].group_caption is None


def test_mentions_sentences_and_rid_lists() -> None:
    body = (
        "<sec><p>Intro without figures. Cells grew (Fig. 1A; et al. 2001). "
        "As shown by Smith et al. (2010), the effect was 2.5-fold (e.g. <xref ref-type='fig' "
        "rid='f1 f2'>Figs. 1 and 2</xref>). Nothing here. "
        "Group cited (<xref ref-type='fig' rid='grp'>Figure 3</xref>).</p>"
        "<p>Again (<xref ref-type='fig' rid='f2'>Fig. 2</xref>). "
        "Again (<xref ref-type='fig' rid='f2'>Fig. 2</xref>).</p></sec>"
        '<fig id="f1"><caption><p>Not a mention '
        "(<xref ref-type='fig' rid='f2'>Fig. 2</xref>).</p></caption></fig>"
        '<fig id="f2"/><fig-group id="grp"><fig id="f3"/></fig-group>'
    )
    figs = {f.fig_id: f for f in figures(body)}
    both = "As shown by Smith et al. (2010), the effect was 2.5-fold (e.g. Figs. 1 and 2)."
    assert figs["f1"].mentions == [both]
    assert figs["f2"].mentions == [both, "Again (Fig. 2)."]
    assert figs["f3"].mentions == ["Group cited (Figure 3)."]


# ---------------------------------------------------------------------- metadata


def test_metadata_variants() -> None:
    front = (
        '<article-id pub-id-type="pmc">123</article-id>'
        '<article-id pub-id-type="pmid">9</article-id>'
        '<article-id pub-id-type="doi">https://doi.org/10.1/x</article-id>'
        "<title-group><article-title>A <italic>b</italic> c</article-title></title-group>"
        '<pub-date pub-type="collection"><year>2019</year></pub-date>'
        '<pub-date pub-type="ppub"><year>2020</year></pub-date>'
        '<permissions><license license-type="open-access"><license-p>See '
        '<ext-link xlink:href="https://creativecommons.org/licenses/by/4.0/">CC BY</ext-link>'
        "</license-p></license></permissions>"
    )
    record = parse_article(article(front=front))
    assert (record.pmcid, record.pmid, record.doi) == ("PMC123", "9", "10.1/x")
    assert (record.article_title, record.year, record.journal) == ("A b c", 2020, None)
    assert record.license_url == "https://creativecommons.org/licenses/by/4.0/"
    assert record.license_type == "open-access"
    assert record.article_type == "research-article"


# ----------------------------------------------------------------------- authors


def test_corpus_authors_first_to_last(corpus_dir: Path) -> None:
    """Every corpus article names its authors; editors and collab members are not authors."""
    assert set(EXPECTED_AUTHORS) == set(manifest(corpus_dir))
    for article_id, (count, first, last) in EXPECTED_AUTHORS.items():
        authors = parsed(corpus_dir, article_id).authors
        assert (len(authors), authors[0], authors[-1]) == (count, first, last), article_id
    elife = parsed(corpus_dir, "elife-30274-v1").authors
    assert "C Conover Talbot Jr" in elife  # <suffix>
    assert "Elizabeth Iorns" not in elife  # a member of the collaboration, nested in it
    assert "Michael R Green" not in elife  # the reviewing editor
    # the two collaborations sign last: "The Thai Cohort Study Team" (NLM 3.0, with an xref)
    # and eLife's "Reproducibility Project: Cancer Biology" (members nested in the <collab>)


def test_author_name_forms() -> None:
    front = (
        "<contrib-group>"
        '<contrib contrib-type="author"><name><surname>Smith</surname>'
        "<given-names>Ann B</given-names><prefix>Dr</prefix><suffix>III</suffix></name></contrib>"
        '<contrib><name name-style="eastern"><surname>Wang</surname>'
        "<given-names>Li</given-names></name></contrib>"
        '<contrib contrib-type="author"><string-name>J. <surname>Doe</surname></string-name>'
        "</contrib>"
        '<contrib contrib-type="author"><name-alternatives><name xml:lang="en">'
        "<surname>Ito</surname><given-names>Ken</given-names></name>"
        '<name xml:lang="ja"><surname>伊藤</surname></name></name-alternatives></contrib>'
        '<contrib contrib-type="author"><collab>The <italic>X</italic> Consortium'
        '<xref ref-type="fn" rid="fn1">1</xref><contrib-group><contrib contrib-type="author">'
        "<name><surname>Member</surname></name></contrib></contrib-group></collab></contrib>"
        '<contrib contrib-type="author"><anonymous/></contrib>'
        '<contrib contrib-type="editor"><name><surname>Editor</surname></name></contrib>'
        '<contrib contrib-type="author non-byline"><name><surname>Hidden</surname></name>'
        "</contrib></contrib-group>"
        '<contrib-group content-type="section"><contrib contrib-type="reviewer">'
        "<name><surname>Reviewer</surname></name></contrib></contrib-group>"
    )
    assert parse_article(article(front=front)).authors == [
        "Ann B Smith III",
        "Wang Li",
        "J. Doe",
        "Ken Ito",
        "The X Consortium",
    ]


def test_no_contrib_group_means_no_authors() -> None:
    assert parse_article(article()).authors == []
    sub = (
        '<sub-article><front-stub><contrib-group><contrib contrib-type="author">'
        "<name><surname>Stub</surname></name></contrib></contrib-group></front-stub></sub-article>"
    )
    assert parse_article(article(extra=sub)).authors == []  # a sub-article's byline is its own


def test_articleset_wrapper_and_html_entities_in_dtd_documents() -> None:
    xml = (
        '<!DOCTYPE pmc-articleset PUBLIC "-//NLM//DTD ARTICLE SET 2.0//EN" "articleset.dtd">'
        "<pmc-articleset><article><body><fig id='f'><caption><p>a&nbsp;b&mdash;c</p></caption>"
        "</fig></body></article><article/></pmc-articleset>"
    )
    assert parse_article(xml.encode()).figures[0].caption == "a b—c"


# ---------------------------------------------------------------------- security


def test_billion_laughs_is_rejected() -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    xml = f"<?xml version='1.0'?><!DOCTYPE article [{entities}]><article><p>&lol9;</p></article>"
    with pytest.raises(JatsError):
        parse_article(xml.encode())
    small = "<!DOCTYPE article [<!ENTITY a 'x'>]><article><p>&a;</p></article>"
    with pytest.raises(JatsError, match="entities"):
        parse_article(small.encode())


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4711")
    for doctype in (
        f'<!DOCTYPE article [<!ENTITY x SYSTEM "file://{secret}">]>',
        f'<!DOCTYPE article [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>',
        f'<!DOCTYPE article SYSTEM "file://{secret}">',
    ):
        xml = f"{doctype}<article><body><fig id='f'><caption><p>&x;</p></caption></fig></body>"
        xml += "</article>"
        try:
            record = parse_article(xml.encode())
        except JatsError:
            continue
        assert "TOPSECRET" not in repr(record)


@pytest.mark.parametrize(
    "xml",
    [
        b"<article><body><p>cut",
        b'<?xml version="1.0" encoding="UTF-16"?><article/>',
        b'<?xml version="1.0" encoding="bogus-enc"?><article/>',
        '<?xml version="1.0" encoding="ISO-8859-1"?><article><p>caf\u00e9</p></article>'.encode(),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"",
        b"<html><body/></html>",
    ],
    ids=[
        "truncated",
        "utf16-declared",
        "bogus-encoding",
        "latin1-declared",
        "png",
        "empty",
        "html",
    ],
)
def test_bad_input_raises_jats_error(xml: bytes) -> None:
    with pytest.raises(JatsError):
        parse_article(xml)


def test_deep_nesting_is_refused_not_recursed() -> None:
    deep = "<italic>" * 300 + "x" + "</italic>" * 300
    with pytest.raises(JatsError, match="depth"):
        parse_article(article(f"<fig id='f'><caption><p>{deep}</p></caption></fig>"))


def test_real_latin1_document_still_parses() -> None:
    xml = '<?xml version="1.0" encoding="ISO-8859-1"?><article><front><article-meta>'
    xml += "<title-group><article-title>caf\u00e9</article-title></title-group>"
    xml += "</article-meta></front></article>"
    assert parse_article(xml.encode("latin-1")).article_title == "caf\u00e9"


# ------------------------------------------------------------------ resolve_href


def test_resolve_href_rules() -> None:
    pmc = ["pone.0012255.g001.gif", "pone.0012255.g001.jpg", "pone.0012255.s001.tif"]
    assert resolve_href("pone.0012255.g001", pmc) == "pone.0012255.g001.jpg"
    assert resolve_href("pone.0012255.g001", pmc[:1]) == "pone.0012255.g001.gif"
    plos = ["journal.pcbi.1004082.g001.PNG", "journal.pcbi.1004082.g002.tif"]
    assert resolve_href("info:doi/10.1371/journal.pcbi.1004082.g001", plos) == plos[0]
    pmc_style = ["pcbi.1004082.g001.jpg"]
    assert resolve_href("info:doi/10.1371/journal.pcbi.1004082.g001", pmc_style) == pmc_style[0]
    assert resolve_href("FIG1.JPG", ["fig1.jpg"]) == "fig1.jpg"
    assert resolve_href("fig1.tif", ["fig1.jpg", "fig1.gif"]) == "fig1.jpg"
    assert resolve_href("supp1", ["supp1.pdf", "supp1.doc"]) is None
    assert resolve_href("supp1.pdf", ["supp1.pdf"]) is None
    assert resolve_href("gr1", ["a/b/gr1.png", "gr10.jpg"]) == "a/b/gr1.png"
    assert resolve_href("gr2", ["gr1.jpg"]) is None
    assert resolve_href("", ["gr1.jpg"]) is None


# -------------------------------------------------------------------------- keys


def test_sample_and_panel_keys() -> None:
    assert sample_key("PMC123", "F1.a") == "PMC123_F1-a"
    assert sample_key("123", "fig 2/b") == "PMC123_fig-2-b"
    assert sample_key("pmc77", "pcbi.1004082.g001") == "PMC77_pcbi-1004082-g001"
    assert sample_key("PMC5", "Abb_ü") == "PMC5_Abb_-"
    assert panel_key("PMC123_F1-a", 0) == "PMC123_F1-a_p0"
    for bad in ("PMC12.1", "abc", ""):
        with pytest.raises(InvalidKeyError):
            sample_key(bad, "F1")
    with pytest.raises(InvalidKeyError):
        sample_key("PMC1", "")
    with pytest.raises(InvalidKeyError):
        panel_key("PMC1_F1.jpg", 1)
    with pytest.raises(InvalidKeyError):
        panel_key("PMC1_F1", -1)
