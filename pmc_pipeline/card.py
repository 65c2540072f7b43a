"""The dataset card ``OUT/README.md`` (pure: build facts in, Markdown out).

It follows the Hugging Face hub's conventions: YAML front matter that
``huggingface_hub.DatasetCard`` reads, with one ``configs`` entry whose ``data_files`` name
each split's WebDataset tars and a ``dataset_info`` whose features are derived from
``schemas/sample.schema.json``, so ``datasets.load_dataset(OUT)`` types every ``.json`` field
instead of guessing from the first samples (where ``year`` or ``box`` may all be null and
the guess fails later). Parquet metadata gets a recipe, not a config: a Parquet config
beside a WebDataset one makes ``datasets`` read the tars as Parquet.

Every number comes from the build's own files and nothing from the clock, so the same
build gives the same bytes. The recipes are written to run from the folder holding the
card (a clone of the hub repository, or the build folder itself); the tests run them as
written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .attribution import NAMED_AUTHORS
from .config import Config
from .dedupe import SPLITS
from .licenses import NO_CODE, license_group, license_summary
from .schema import json_schema

CONFIG_NAME = "default"
PRETTY_NAME = "PubMed Central Open Access figures and captions"
LICENSE_LINK = "https://pmc.ncbi.nlm.nih.gov/tools/openftlist/"
TASKS = ("image-to-text", "text-to-image", "zero-shot-image-classification")
TAGS = ("biology", "medical", "pubmed-central", "figures", "captions", "webdataset")
SIZE_CATEGORIES = (  # (upper bound, hub label)
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)
# Config fields that shape the data, with the flag that sets them (the command in the card).
COMMAND_FLAGS = (
    ("licenses", "--licenses"),
    ("limit", "--limit"),
    ("pmcids_file", "--pmcids"),
    ("previous", "--previous"),
    ("include_manuscripts", "--include-manuscripts"),
    ("include_ocr", "--include-ocr"),
    ("partition_size", "--partition-size"),
    ("max_side", "--max-side"),
    ("jpeg_quality", "--jpeg-quality"),
    ("min_side", "--min-side"),
    ("near_distance", "--near-distance"),
    ("test_fraction", "--test-fraction"),
    ("val_fraction", "--val-fraction"),
    ("panels", "--panels"),
    ("panel_detector", "--panel-detector"),
    ("samples_per_shard", "--samples-per-shard"),
    ("keep_duplicates", "--keep-duplicates"),
)
_HUB_DTYPES = {"list<string>": "string", "list<float32>": "float32"}


@dataclass(frozen=True)
class CardFacts:
    """What the card says, read from the build by the report stage.

    ``sizes``: split -> its ``sizes.json``; ``licenses``: split -> {license code (``none``
    when missing): samples}; ``hub_licenses``: hub license id (``other`` when it has none)
    -> samples; ``funnel``: ``build.json``'s funnel; ``listing``: ``manifest/_SUCCESS.json``;
    ``source``: how the source is named (``demo`` for the bundled one).
    """

    sizes: Mapping[str, Mapping[str, int]]
    licenses: Mapping[str, Mapping[str, int]]
    hub_licenses: Mapping[str, int]
    funnel: Mapping[str, Any]
    config: Config
    version: str
    source: str
    listing: Mapping[str, Any] | None = None

    @property
    def splits(self) -> list[str]:
        """Splits with samples, in SPLITS order (an empty split has no tars to name)."""
        return [s for s in SPLITS if sum(self.sizes.get(s, {}).values())]

    def samples(self, split: str) -> int:
        return sum(int(v) for v in self.sizes.get(split, {}).values())

    def shard_bytes(self, split: str) -> int:
        """Bytes of the split's tars, from the shard stats the funnel sums."""
        return int(((self.funnel.get("shards") or {}).get(split) or {}).get("bytes", 0))

    @property
    def total(self) -> int:
        return sum(self.samples(s) for s in self.splits)


def dataset_card(facts: CardFacts) -> str:
    """The whole card: YAML front matter, then the body."""
    return f"---\n{_yaml(front_matter(facts))}---\n\n{body(facts)}"


# ------------------------------------------------------------------ front matter


def front_matter(facts: CardFacts) -> dict[str, Any]:
    """The card's metadata, as the hub and ``datasets`` read it."""
    hub = [k for k, n in facts.hub_licenses.items() if n]
    meta: dict[str, Any] = {"pretty_name": PRETTY_NAME}
    if len(hub) == 1 and hub[0] != "other":
        meta["license"] = hub[0]
    else:  # mixed: the body breaks the samples down per license
        meta |= {"license": "other", "license_name": "pmc-open-access-mixed"}
        meta["license_link"] = LICENSE_LINK
    meta |= {
        "language": ["en"],
        "task_categories": list(TASKS),
        "tags": list(TAGS),
        "size_categories": [size_category(facts.total)],
        "configs": [
            {
                "config_name": CONFIG_NAME,
                "default": True,
                "data_files": [{"split": s, "path": f"shards/{s}/*.tar"} for s in facts.splits],
            }
        ],
        "dataset_info": {
            "config_name": CONFIG_NAME,
            "features": webdataset_features(json_schema("sample")),
            "splits": [
                {"name": s, "num_bytes": facts.shard_bytes(s), "num_examples": facts.samples(s)}
                for s in facts.splits
            ],
        },
    }
    return meta


def size_category(n: int) -> str:
    """The hub's size bucket of ``n`` samples."""
    for bound, label in SIZE_CATEGORIES:
        if n < bound:
            return label
    return "n>1T"


def webdataset_features(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``datasets`` features of one WebDataset sample: the ``.jpg`` image, the ``.txt``
    caption, the ``.json`` metadata typed from the schema's ``x-arrow``, key and URL."""
    fields = []
    for name, spec in schema["properties"].items():
        arrow = spec["x-arrow"]
        if arrow in _HUB_DTYPES:
            fields.append({"name": name, "list": _HUB_DTYPES[arrow]})
        else:
            fields.append({"name": name, "dtype": arrow})
    return [
        {"name": "jpg", "dtype": "image"},
        {"name": "txt", "dtype": "string"},
        {"name": "json", "struct": fields},
        {"name": "__key__", "dtype": "string"},
        {"name": "__url__", "dtype": "string"},
    ]


def _yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML of dicts, lists and scalars; scalars as JSON (valid YAML)."""
    pad = " " * indent
    if isinstance(value, Mapping):
        out = []
        for key, item in value.items():
            if _is_block(item):
                out.append(f"{pad}{key}:\n{_yaml(item, indent + 2)}")
            else:
                out.append(f"{pad}{key}: {_scalar(item)}\n")
        return "".join(out)
    out = []
    for item in value:
        if _is_block(item):
            inner = _yaml(item, indent + 2)
            out.append(f"{pad}- {inner[indent + 2 :]}")
        else:
            out.append(f"{pad}- {_scalar(item)}\n")
    return "".join(out)


def _is_block(value: Any) -> bool:
    return isinstance(value, Mapping | list) and bool(value)


_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


def _scalar(value: Any) -> str:
    """A plain word as it is; anything YAML could read as another type, JSON-quoted."""
    if isinstance(value, str) and _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


# -------------------------------------------------------------------------- body


def body(facts: CardFacts) -> str:
    """The card's Markdown after the front matter."""
    sections = [
        _intro(facts),
        _contents(facts),
        _licenses(facts),
        _fields(),
        _built(facts),
        _limits(facts),
        _attribution(facts),
        _loading(facts),
    ]
    return "\n".join(sections)


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "—"


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        lines.append("| " + " | ".join(_n(c) if not isinstance(c, str) else c for c in row) + " |")
    return "\n".join(lines) + "\n"


def _intro(facts: CardFacts) -> str:
    return f"""# {PRETTY_NAME}

Figures of PubMed Central Open Access articles paired with their captions, in the style of
PMC-15M: one sample per figure (and, where the figure is a compound one that splits
cleanly, per panel), deduplicated, split into train / val / test by duplicate cluster, and
written as [WebDataset](https://github.com/webdataset/webdataset) shards that
[open_clip](https://github.com/mlfoundations/open_clip) trains on directly, with a Parquet
file of the same metadata beside each shard. {facts.total:,} samples in all.

Each sample is three files sharing a key (`PMC<id>_<figure id>`, panels `..._p<k>`):
`.jpg` (RGB JPEG, longer side at most {facts.config.max_side} px), `.txt` (the training
caption) and `.json` (article and figure metadata, including `authors` and a ready
`attribution` line). Built with pmc_pipeline {facts.version}.
"""


def _contents(facts: CardFacts) -> str:
    shards = facts.funnel.get("shards") or {}
    rows = []
    for s in facts.splits:
        panels = int((shards.get(s) or {}).get("panels", 0))
        n = facts.samples(s)
        rows.append([f"`{s}`", n, n - panels, panels, len(facts.sizes.get(s, {}))])
    total = [sum(r[i] for r in rows) for i in range(1, 5)]
    rows.append(["**total**", *total])
    table = _table(["split", "samples", "figures", "panels", "shards"], rows)
    return f"## Contents\n\n{table}\n`shards/<split>/sizes.json` gives the samples per shard.\n"


def _licenses(facts: CardFacts) -> str:
    codes = sorted(
        {c for per in facts.licenses.values() for c in per},
        key=lambda c: (-sum(int(facts.licenses[s].get(c, 0)) for s in facts.licenses), c),
    )
    uses = {"comm": "yes", "noncomm": "**no**", "other": "check the article"}
    rows = []
    for code in codes:
        per = [int(facts.licenses.get(s, {}).get(code, 0)) for s in facts.splits]
        group = license_group(None if code == NO_CODE else code)
        rows.append([code, *per, sum(per), uses[group]])
    table = _table(["license code", *facts.splits, "total", "commercial use"], rows)
    totals = {c: sum(int(p.get(c, 0)) for p in facts.licenses.values()) for c in codes}
    summary = license_summary(totals, facts.config.licenses)
    kept = ", ".join(facts.config.licenses) or "every open-access license"
    notes = "".join(f"\n> **Note:** {note}\n" for note in summary["notes"])
    return f"""## Licenses

Every article keeps its own license; the card's `license: other` means the samples are
under the licenses below (PMC's `license_code` per article, the version in each sample's
`license_url`). This build kept: {kept}.

{table}{notes}"""


def _fields() -> str:
    schema = json_schema("sample")
    rows = []
    for name, spec in schema["properties"].items():
        kinds = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
        kind = " or ".join(kinds)
        rows.append([f"`{name}`", kind, spec.get("description", "").replace("|", "/")])
    return "## Sample fields (`.json`, and each shard's `.parquet`)\n\n" + _table(
        ["field", "type", "meaning"], rows
    )


def _command(facts: CardFacts) -> str:
    config, default = facts.config, Config()
    parts = ["pmc-pipeline build", f"--source {facts.source}", "--out OUT"]
    for field, flag in COMMAND_FLAGS:
        value = getattr(config, field)
        if value == getattr(default, field):
            continue
        if isinstance(value, bool):
            parts.append(flag)
        elif isinstance(value, tuple):
            parts.append(f"{flag} '{','.join(value)}'")
        else:
            parts.append(f"{flag} {value}")
    return " \\\n    ".join(parts)


def _built(facts: CardFacts) -> str:
    f, config = facts.funnel, facts.config
    articles, figures = f.get("articles") or {}, f.get("figures") or {}
    listing = facts.listing or {}
    excluded = articles.get("excluded") or {}
    why = ", ".join(f"{k} {v:,}" for k, v in excluded.items()) or "none"
    funnel = _table(
        ["step", "count"],
        [
            ["article versions listed", articles.get("versions_listed")],
            ["articles listed (latest version)", articles.get("listed")],
            [f"articles left out ({why})", sum(excluded.values()) if excluded else None],
            ["articles kept", articles.get("kept")],
            ["articles fetched", articles.get("fetched")],
            ["articles parsed", articles.get("extracted")],
            ["figures found", figures.get("found")],
            ["figures without a graphic", figures.get("without_graphic")],
            ["figures whose image failed", sum((figures.get("failed") or {}).values())],
            ["figures extracted", figures.get("extracted")],
            ["duplicate figures left out", figures.get("duplicates_dropped")],
            ["figures written", sum((figures.get("written") or {}).values())],
            ["panels written", figures.get("panels_written")],
        ],
    )
    dedupe = _table(
        ["", "count"],
        [
            ["duplicate clusters", figures.get("clusters")],
            ["exact duplicates (same pixels)", figures.get("exact_duplicates")],
            [
                f"near duplicates (pHash within {config.near_distance} bits)",
                figures.get("near_duplicates"),
            ],
            ["duplicates within one article", figures.get("within_article_duplicates")],
            ["duplicates across articles", figures.get("cross_article_duplicates")],
            ["degenerate images (blank, tiny, generic)", figures.get("degenerate")],
        ],
    )
    split = f.get("split_stage") or {}
    panels = "Panels were not split in this build (`--panels off`).\n"
    if split:
        panels = _table(
            ["", "count"],
            [
                ["figures examined", split.get("figures")],
                ["captions naming two or more panels", split.get("caption_labelled")],
                ["figures with candidate panels", split.get("candidates")],
                ["figures split (accepted)", split.get("accepted")],
                ["panels", split.get("panels")],
                ["panels matched to their caption label", split.get("panels_aligned")],
            ],
        )
    listed = listing.get("listing_date") or "not recorded by the listing"
    if listing.get("inventory"):
        listed += f" (from the S3 Inventory `{listing['inventory']}`)"
    filters = [
        f"licenses: {', '.join(config.licenses) or 'all open-access licenses'}",
        f"author manuscripts {'included' if config.include_manuscripts else 'left out'}",
        f"OCR-scanned articles {'included' if config.include_ocr else 'left out'}",
        "retracted and non-open-access articles left out",
    ]
    if config.limit is not None:
        filters.append(f"at most {config.limit:,} articles")
    if config.pmcids_file:
        filters.append("only the PMCIDs of a list")
    return f"""## How it was built

```bash
{_command(facts)}
```

- pmc_pipeline {facts.version}; source `{facts.source}`; listing date: {listed}.
- Filters: {"; ".join(filters)}.
- Images: decoded, converted to RGB, fitted within {config.max_side} px, JPEG quality
  {config.jpeg_quality}; images under {config.min_side} px are errors, not samples.
- Splits are assigned per duplicate cluster (test {config.test_fraction:g}, val
  {config.val_fraction:g}), never per image, so no duplicate spans train and test.

### Funnel

Every article and figure is accounted for (`build.json` checks that the numbers add up).

{funnel}
### Deduplication

{dedupe}
### Panels

{panels}"""


def _limits(facts: CardFacts) -> str:
    return """## Known limits

- Captions are the authors' text as published: they may describe several panels, cite
  references, or rely on the article for context (`mentions` holds the sentences citing
  the figure).
- Panel splitting is heuristic and precision-first: a compound figure is split only when
  its layout and caption agree (clean cuts, or an even grid whose cells carry the printed
  panel letters), or (caption naming no panels) at wide clean gutters, at thin light lines
  between photographs in an even grid, or where every cell of an even grid prints its
  letter A, B, C ... in order, so many compound figures stay whole. Panels of the latter
  carry the whole caption (`aligned` false, no `label`).
- Near duplicates are found by perceptual hash; redrawn or recoloured copies are missed,
  and similar charts of different data can collide.
- Licenses come from PMC's metadata per article; figures reused from other sources may be
  under other terms than their article.
- `val` is small by design; evaluate on `test`.
"""


def _attribution(facts: CardFacts) -> str:
    return f"""## Attribution and citation

Most samples are under licenses that require attribution. Each sample carries:

- `authors`: the article's authors in byline order (collaborations by name; empty when
  the article names none);
- `attribution`: one line to show with the image, e.g. `Figure 2 from "Title", A. Author,
  B. Author, C. Author et al., Journal (2021), doi:10.1234/x, CC BY 4.0
  <https://creativecommons.org/licenses/by/4.0/>` (the first {NAMED_AUTHORS} authors,
  then et al.; a panel says which panel of which figure).

Cite the articles whose figures you show, and this dataset as:

```bibtex
@misc{{pmc_pipeline_figures,
  title  = {{{PRETTY_NAME}}},
  note   = {{Built with pmc\\_pipeline {facts.version} from the PMC Open Access Subset}},
  howpublished = {{\\url{{{LICENSE_LINK}}}}}
}}
```
"""


def _loading(facts: CardFacts) -> str:
    """Recipes that run from the folder holding this card; each Python one leaves
    ``rows`` = {split: samples}, which the tests compare with ``sizes.json``."""
    splits = facts.splits
    train = "train" if "train" in splits else splits[0]
    clip = [
        "python -m open_clip_train.main",
        "--dataset-type webdataset",
        f'--train-data "{_brace(facts, train)}"',
        f"--train-num-samples {facts.samples(train)}",
    ]
    held_out = [s for s in ("val", "test") if s in splits and s != train]
    if held_out:
        clip += [
            f'--val-data "{_brace(facts, held_out[0])}"',
            f"--val-num-samples {facts.samples(held_out[0])}",
        ]
    clip += ["--model ViT-B-16", "--batch-size 256", "--epochs 10", "--workers 8"]
    command = " \\\n    ".join(clip)
    files = "\n".join(f'    "{s}": "shards/{s}/*.parquet",' for s in splits)
    return f"""## Loading

Run these from the folder holding this card (a clone of its hub repository, or the build
folder). The Parquet files hold the metadata of every sample, not the images.

### open_clip

```bash
{command}
```

Or the bundled pretraining stage: `pmc-pipeline train --shards shards --out run`
(`pip install "pmc-pipeline[train]"`).

### Hugging Face `datasets` (WebDataset: images, captions, typed metadata)

```python
from pathlib import Path

from datasets import load_dataset

ds = load_dataset(str(Path.cwd()))  # this folder, or the hub repository id once pushed
rows = {{split: part.num_rows for split, part in ds.items()}}
print(rows)
sample = next(iter(ds.values()))[0]
print(sample["jpg"].size, sample["txt"][:80], sample["json"]["attribution"])
```

### Hugging Face `datasets` (Parquet: metadata only)

```python
from datasets import load_dataset

meta = load_dataset("parquet", data_files={{
{files}
}})
rows = {{split: part.num_rows for split, part in meta.items()}}
print(rows)
```

### DuckDB

```python
import duckdb

query = "SELECT split, count(*) FROM read_parquet('shards/*/*.parquet') GROUP BY split"
rows = dict(duckdb.sql(query).fetchall())
print(rows)
print(duckdb.sql(
    "SELECT license_code, count(*) AS samples FROM read_parquet('shards/*/*.parquet') "
    "GROUP BY license_code ORDER BY samples DESC"
))
```

### pandas

```python
import glob

import pandas as pd

df = pd.concat(pd.read_parquet(path) for path in sorted(glob.glob("shards/*/*.parquet")))
rows = df.groupby("split").size().to_dict()
print(rows)
print(df[["key", "authors", "attribution"]].head())
```
"""


def _brace(facts: CardFacts, split: str) -> str:
    """open_clip's brace pattern of a split's tars: ``shards/train/{00000..00041}.tar``."""
    names = sorted(name.removesuffix(".tar") for name in facts.sizes.get(split, {}))
    return f"shards/{split}/{{{names[0]}..{names[-1]}}}.tar"
