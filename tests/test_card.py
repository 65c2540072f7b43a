"""A build is a publishable dataset: authors, attribution lines and the dataset card.

Pure checks of attribution lines and license names first. Then, on a demo build and on the
fixture-bucket build (``reference``, shared with test_build), the card as a user meets it:
``huggingface_hub`` reads it, every config it declares loads with ``datasets`` (images
decoded, metadata typed from the schema), and every recipe of its Loading section, taken
from the card's own text, runs as written and counts exactly the samples of sizes.json.
``datasets`` is slow to import: only this module imports it, once.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import webdataset as wds
from braceexpand import braceexpand
from PIL import Image

from pmc_pipeline.attribution import attribution
from pmc_pipeline.card import CardFacts, dataset_card
from pmc_pipeline.config import Config
from pmc_pipeline.dag import build
from pmc_pipeline.demo import (
    COLLABORATION,
    NO_AUTHORS,
    WITH_COLLABORATION,
    build_demo_source,
    demo_articles,
)
from pmc_pipeline.demo import FIRST_PMCID as DEMO_FIRST_PMCID
from pmc_pipeline.jats import ArticleRecord, parse_article
from pmc_pipeline.licenses import hub_license, license_name, license_summary
from pmc_pipeline.schema import json_schema
from pmc_pipeline.stages.report import run_report
from pmc_pipeline.stages.shard import run_shard

DEMO_ARTICLES = 16
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)

# ------------------------------------------------------------------ pure: attribution

FIGURE = {
    "label": "Figure 2",
    "article_title": "Cells in motion",
    "authors": ["Ann Smith", "Bo Li", "Cy Young", "Di Ng"],
    "journal": "eLife",
    "year": 2021,
    "doi": "10.7554/eLife.1",
    "pmcid": "PMC1",
    "license_code": "CC BY",
    "license_url": "http://creativecommons.org/licenses/by/4.0/",
}


def test_attribution_line_names_title_authors_source_and_license() -> None:
    assert attribution(FIGURE) == (
        'Figure 2 from "Cells in motion", Ann Smith, Bo Li, Cy Young et al., eLife (2021), '
        "doi:10.7554/eLife.1, CC BY 4.0 <http://creativecommons.org/licenses/by/4.0/>"
    )
    assert attribution(FIGURE, panel="B").startswith('Panel B of Figure 2 from "Cells')
    assert attribution({**FIGURE, "label": "Figure 2."}).startswith("Figure 2 from")
    three = {**FIGURE, "authors": FIGURE["authors"][:3]}
    assert "Cy Young, eLife" in attribution(three)  # three authors: no et al.


def test_attribution_without_authors_doi_or_license() -> None:
    bare = {**FIGURE, "authors": [], "doi": None, "label": None, "year": None}
    bare |= {"license_code": None, "license_url": None}
    assert attribution(bare) == 'Figure from "Cells in motion", eLife, PMC1, license not stated'
    other = {**FIGURE, "license_code": "NO-CC CODE", "license_url": None}
    assert attribution(other).endswith("doi:10.7554/eLife.1, NO-CC CODE")


def test_license_names_and_hub_ids() -> None:
    url = "https://creativecommons.org/licenses/by-nc-sa/3.0/igo/"
    assert license_name("CC BY-NC-SA", url) == "CC BY-NC-SA 3.0"
    assert hub_license("CC BY-NC-SA", url) == "cc-by-nc-sa-3.0"
    zero = "https://creativecommons.org/publicdomain/zero/1.0/"
    assert (license_name("CC0", zero), hub_license("CC0", None)) == ("CC0 1.0", "cc0-1.0")
    assert hub_license("CC BY", "http://www.elsevier.com/terms") is None  # no version: other
    assert hub_license("NO-CC CODE", None) is None and license_name(None, url) is None


def test_non_commercial_samples_are_flagged_unless_the_build_kept_comm_only() -> None:
    samples = {"CC BY": 5, "CC BY-NC": 2, "none": 1}
    everything = license_summary(samples, ())
    assert everything["groups"] == {"comm": 5, "noncomm": 2, "other": 1}
    assert len(everything["notes"]) == 2 and "non-commercial" in everything["notes"][0]
    comm = license_summary({"CC BY": 5}, ("comm",))
    assert comm["commercial_only"] and comm["notes"] == []


def test_a_single_license_build_names_it_and_needs_no_warning() -> None:
    import yaml

    facts = CardFacts(
        sizes={"train": {"00000.tar": 3}},
        licenses={"train": {"CC BY": 3}},
        hub_licenses={"cc-by-4.0": 3},
        funnel={},
        config=Config(licenses=("comm",)),
        version="0.1.0",
        source="s3://pmc-oa-opendata",
    )
    text = dataset_card(facts)
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["license"] == "cc-by-4.0" and "license_name" not in meta
    assert meta["dataset_info"]["splits"] == [{"name": "train", "num_bytes": 0, "num_examples": 3}]
    assert "**Note:**" not in text and "--licenses 'comm'" in text
    assert "--source s3://pmc-oa-opendata" in text


# ------------------------------------------------------------------ builds


@pytest.fixture(scope="module")
def demo_build(dask_client, tmp_path_factory) -> Path:
    """The offline demo (panels on), built once for this module."""
    out = tmp_path_factory.mktemp("demo-card")
    source = build_demo_source(out / "demo-source", n_articles=DEMO_ARTICLES)
    config = demo_config(out, source)
    build(config, dask_client)
    return out


def demo_config(out: Path, source: Path) -> Config:
    return Config(
        out=str(out),
        source=str(source),
        partition_size=6,
        samples_per_shard=16,
        test_fraction=0.2,
        val_fraction=0.1,
        progress=False,
    )


@pytest.fixture(scope="module", params=["demo_build", "reference"])
def built(request) -> Path:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    """``datasets`` with its caches in a temporary folder and no network."""
    home = tmp_path_factory.mktemp("hf-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HOME", str(home))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("HF_DATASETS_OFFLINE", "1")
        import datasets

        mp.setattr(datasets.config, "HF_DATASETS_CACHE", home / "datasets")
        yield datasets


def split_sizes(out: Path) -> dict[str, int]:
    """Samples per split, from sizes.json: what every loader must count."""
    return {
        p.parent.name: sum(json.loads(p.read_text()).values())
        for p in sorted((out / "shards").glob("*/sizes.json"))
    }


def shard_rows(out: Path) -> list[dict]:
    parts = sorted((out / "shards").glob("*/*.parquet"))
    return pa.concat_tables(pq.read_table(p) for p in parts).to_pylist()


# ------------------------------------------------------------------ the card


def test_card_reads_with_huggingface_hub(built: Path, hf) -> None:
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(built / "README.md")
    sizes = split_sizes(built)
    data = card.data.to_dict()
    assert data["license"] == "other" and data["license_name"] == "pmc-open-access-mixed"
    assert data["size_categories"] == ["n<1K"] and "image-to-text" in data["task_categories"]
    (config,) = data["configs"]
    paths = {f["split"]: f["path"] for f in config["data_files"]}
    assert paths == {s: f"shards/{s}/*.tar" for s in sizes}
    info = data["dataset_info"]
    assert {s["name"]: s["num_examples"] for s in info["splits"]} == sizes
    text = card.text
    for split, n in sizes.items():
        assert f"| `{split}` | {n} |" in text
    assert "## Loading" in text and "## How it was built" in text


def test_each_config_loads_every_sample_typed(built: Path, hf) -> None:
    from huggingface_hub import DatasetCard

    sizes = split_sizes(built)
    configs = DatasetCard.load(built / "README.md").data.to_dict()["configs"]
    for config in configs:
        ds = hf.load_dataset(str(built), config["config_name"])
        assert {split: part.num_rows for split, part in ds.items()} == sizes
        meta = ds["train"].features["json"]
        for name, spec in json_schema("sample")["properties"].items():
            arrow = spec["x-arrow"]
            if arrow.startswith("list<"):
                assert meta[name] == hf.List(hf.Value(arrow[5:-1])), name
            else:
                assert meta[name] == hf.Value(arrow), name
        for part in ds.values():
            sample = part[0]
            assert isinstance(sample["jpg"], Image.Image) and sample["jpg"].mode == "RGB"
            assert sample["jpg"].size == (sample["json"]["width"], sample["json"]["height"])
            assert sample["txt"] == sample["json"]["text"]
            assert sample["__key__"] == sample["json"]["key"]


def recipes(card: str) -> list[tuple[str, str]]:
    """(language, code) of every fenced block of the card's Loading section."""
    return FENCE.findall(card[card.index("## Loading") :])


def test_recipes_run_as_written(built: Path, hf, monkeypatch, capsys) -> None:
    """Each Python recipe leaves ``rows`` = samples per split; the open_clip command names
    exactly the tars and counts of sizes.json."""
    sizes = split_sizes(built)
    blocks = recipes((built / "README.md").read_text())
    assert [lang for lang, _ in blocks] == ["bash", "python", "python", "python", "python"]
    monkeypatch.chdir(built)
    for lang, code in blocks:
        if lang == "bash":
            check_open_clip_command(code, built)
            continue
        namespace: dict = {}
        exec(compile(code, "README.md", "exec"), namespace)
        assert namespace["rows"] == sizes, code
    assert "attribution" in capsys.readouterr().out


def check_open_clip_command(command: str, out: Path) -> None:
    assert command.startswith("python -m open_clip_train.main")
    for data, count in (("train-data", "train-num-samples"), ("val-data", "val-num-samples")):
        pattern = re.search(rf'--{data} "([^"]+)"', command).group(1)
        n = int(re.search(rf"--{count} (\d+)", command).group(1))
        split = pattern.split("/")[1]
        tars = list(braceexpand(pattern))
        sizes = json.loads((out / "shards" / split / "sizes.json").read_text())
        assert sorted(Path(t).name for t in tars) == sorted(sizes) and n == sum(sizes.values())
        assert sum(1 for _ in wds.WebDataset(tars, shardshuffle=False)) == n


def test_card_is_reproducible(demo_build: Path) -> None:
    """A second report of the same build writes the same card, byte for byte."""
    card = (demo_build / "README.md").read_bytes()
    run_report(demo_config(demo_build, demo_build / "demo-source"))
    assert (demo_build / "README.md").read_bytes() == card
    assert b"--source demo" in card and b"pmc_pipeline 0.1" in card


def test_license_counts_and_non_commercial_flag(demo_build: Path) -> None:
    sizes = split_sizes(demo_build)
    report = json.loads((demo_build / "build.json").read_text())
    licenses = report["licenses"]
    assert sum(licenses["samples"].values()) == sum(sizes.values())
    assert licenses["groups"]["noncomm"] > 0 and not licenses["commercial_only"]
    assert "non-commercial" in licenses["notes"][0]
    assert report["histograms"]["license_samples"]["labels"][0] == "CC BY"
    html = (demo_build / "report" / "index.html").read_text()
    assert "non-commercial licenses" in html
    card = (demo_build / "README.md").read_text()
    assert "| CC BY-NC |" in card and "**Note:**" in card
    assert "listing date: not recorded" not in card


# ------------------------------------------------------------------ authors, attribution


def assert_credits(rows: list[dict], articles: dict[str, ArticleRecord]) -> None:
    """Every sample carries its article's authors (first author first) and an attribution
    line with its license and, when present, its DOI."""
    for row in rows:
        article = articles[row["pmcid"]]
        line = row["attribution"]
        assert row["authors"] == article.authors, row["key"]
        if article.authors:
            assert f", {article.authors[0]}" in line
        name = license_name(row["license_code"], row["license_url"])
        assert (name or "license") in line and (row["license_url"] or "") in line
        if row["doi"]:
            assert f"doi:{row['doi']}" in line
        if row["kind"] == "panel":
            parent = next(r for r in rows if r["key"] == row["parent_key"])
            assert line.startswith("Panel ") and f" of {label(parent)} from" in line
        else:
            assert line.startswith(f"{label(row)} from")


def label(row: dict) -> str:
    return (row["label"] or "").rstrip(".") or "Figure"


def test_demo_samples_credit_their_authors(demo_build: Path) -> None:
    specs = {s.pmcid: s for s in demo_articles(DEMO_ARTICLES, seed=0)}  # newest version wins
    articles = {pmcid: parse_article(s.xml) for pmcid, s in specs.items()}
    rows = shard_rows(demo_build)
    assert_credits(rows, articles)
    by_article = {r["pmcid"]: r for r in rows}
    nobody = by_article[f"PMC{DEMO_FIRST_PMCID + NO_AUTHORS}"]
    assert nobody["authors"] == [] and ", Demo Journal" in nobody["attribution"]
    signed = by_article[f"PMC{DEMO_FIRST_PMCID + WITH_COLLABORATION}"]
    assert signed["authors"][-1] == COLLABORATION
    assert any(r["kind"] == "panel" for r in rows)


def test_corpus_samples_credit_their_authors(reference: Path, corpus_dir: Path) -> None:
    from tests.fixtures.corpus_bucket import corpus_articles

    specs = {}
    for spec in corpus_articles(corpus_dir):  # the newest version of each is listed
        if spec.pmcid not in specs or spec.version > specs[spec.pmcid].version:
            specs[spec.pmcid] = spec
    articles = {pmcid: parse_article(s.xml) for pmcid, s in specs.items()}
    rows = shard_rows(reference)
    assert_credits(rows, articles)
    assert all(r["authors"] for r in rows)  # every corpus article with images names authors
    assert any(r["authors"][-1] == "Reproducibility Project: Cancer Biology" for r in rows)


def test_shard_refuses_figures_written_without_authors(demo_build: Path, dask_client, tmp_path):
    old = tmp_path / "old"
    for folder in ("figures", "panels", "dedupe"):
        shutil.copytree(demo_build / folder, old / folder)
    for part in (old / "figures").glob("*.parquet"):
        pq.write_table(pq.read_table(part).drop_columns(["authors"]), part)
    config = demo_config(old, demo_build / "demo-source")
    with pytest.raises(ValueError, match="has no authors column: an older extract wrote it"):
        run_shard(config, dask_client)
