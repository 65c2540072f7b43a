"""Unit tests of the pure parts of acquisition: keys, URLs, filters, retries, tar safety."""

from __future__ import annotations

import tarfile
import time

import numpy as np
import pyarrow as pa
import pytest

from pmc_pipeline import manifest as mf
from pmc_pipeline.config import license_filter
from pmc_pipeline.sources import ObjectRef, SourceError, UnsafePackage
from pmc_pipeline.sources.base import (
    article_files,
    is_figure_image,
    parse_metadata,
    parse_version_key,
    url_to_remote,
)
from pmc_pipeline.sources.legacy import check_member
from pmc_pipeline.sources.transport import RateLimiter, Retryable, with_retries


def test_version_keys_parse_numerically():
    assert parse_version_key("metadata/PMC123.10.json") == ("PMC123", 10)
    assert parse_version_key("PMC123.2/PMC123.2.json") == ("PMC123", 2)
    assert parse_version_key("metadata/readme.txt") is None


def _listing(*refs: tuple[int, int], etag: str | None = None) -> pa.Table:
    return mf.listing_table(
        [ObjectRef(f"metadata/PMC{n}.{v}.json", etag, f"PMC{n}", v) for n, v in refs]
    )


def test_latest_version_sorts_ten_after_two():
    latest, superseded = mf.latest_versions(_listing((7, 1), (7, 2), (7, 10), (12, 1)))
    assert [(r.pmcid, r.version) for r in mf.listing_refs(latest)] == [("PMC7", 10), ("PMC12", 1)]
    assert superseded == 2


def test_latest_version_ties_keep_the_first_listed_and_empty_is_empty():
    twice = mf.listing_table(
        [
            ObjectRef("metadata/PMC5.2.json", "a", "PMC5", 2),
            ObjectRef("PMC5.2/PMC5.2.json", "b", "PMC5", 2),
        ]
    )
    latest, superseded = mf.latest_versions(twice)
    assert latest["metadata_etag"].to_pylist() == ["a"] and superseded == 1
    empty, none = mf.latest_versions(mf.listing_table([]))
    assert empty.num_rows == 0 and none == 0 and empty.schema == mf.LISTING_SCHEMA


def test_latest_versions_agree_with_a_dict_of_the_newest():
    """The vectorised pick equals the per-key rule it replaced, on shuffled listings."""
    rng = np.random.default_rng(1)
    pairs = zip(rng.integers(1, 400, 3000), rng.integers(1, 12, 3000), strict=True)
    refs = [
        ObjectRef(f"metadata/PMC{n}.{v}.json", f"e{i}", f"PMC{n}", int(v))
        for i, (n, v) in enumerate(pairs)
    ]
    best: dict[str, ObjectRef] = {}
    for ref in refs:
        if ref.pmcid not in best or ref.version > best[ref.pmcid].version:
            best[ref.pmcid] = ref
    expected = sorted(best.values(), key=lambda r: mf.pmcid_number(r.pmcid))
    latest, superseded = mf.latest_versions(mf.listing_table(refs))
    assert mf.listing_refs(latest) == expected
    assert superseded == len(refs) - len(expected)


def test_pmcids_as_numbers_and_back():
    numbers = mf.pmcid_numbers(pa.array(["PMC12", "PMC7"]))
    assert numbers.to_pylist() == [12, 7]
    assert mf.pmcid_strings(numbers).to_pylist() == ["PMC12", "PMC7"]


def test_media_url_to_key_and_md5():
    f = url_to_remote("s3://pmc-oa-opendata/PMC1.1/pone.0000308.g001.jpg?md5=abc123")
    assert (f.key, f.name, f.md5) == (
        "PMC1.1/pone.0000308.g001.jpg",
        "pone.0000308.g001.jpg",
        "abc123",
    )
    g = url_to_remote("https://pmc-oa-opendata.s3.amazonaws.com/PMC1.1/gr1_lrg.jpg")
    assert (g.key, g.md5) == ("PMC1.1/gr1_lrg.jpg", None)


@pytest.mark.parametrize(
    "name,ok",
    [
        ("a.JPG", True),
        ("a.tif", True),
        ("b.webp", True),
        ("a.pdf", False),
        ("s.s001.doc", False),
        ("m.mp4", False),
        ("x.zip", False),
        ("t.xlsx", False),
        ("noext", False),
    ],
)
def test_only_figure_images_travel(name, ok):
    assert is_figure_image(name) is ok


def test_metadata_that_is_not_json_is_a_clear_error():
    with pytest.raises(SourceError, match="not valid JSON"):
        parse_metadata(b"<html>oops</html>", "metadata/PMC1.1.json")


def test_exclusion_reasons_in_order():
    base = {"is_pmc_openaccess": True, "license_code": "CC BY"}
    f = mf.Filters()
    assert mf.exclusion_reason(base, f) is None
    assert mf.exclusion_reason({**base, "is_pmc_openaccess": False}, f) == "not_open_access"
    assert mf.exclusion_reason({**base, "is_retracted": True}, f) == "retracted"
    assert mf.exclusion_reason({**base, "is_manuscript": True}, f) == "author_manuscript"
    assert (
        mf.exclusion_reason({**base, "is_manuscript": True}, mf.Filters(include_manuscripts=True))
        is None
    )
    assert mf.exclusion_reason({**base, "is_historical_ocr": True}, f) == "historical_ocr"
    comm = mf.Filters(licenses=frozenset(license_filter(("comm",))))
    assert mf.exclusion_reason({**base, "license_code": "CC BY-NC"}, comm) == "license"
    assert mf.exclusion_reason(base, comm) is None


def test_license_groups_and_codes():
    assert license_filter(()) is None
    allowed = license_filter(("noncomm", "CC0"))
    assert {"CC BY-NC", "CC BY-NC-SA", "CC BY-NC-ND", "CC0"} == allowed
    assert None in license_filter(("other",))


def _previous() -> mf.PreviousBuild:
    manifest = pa.table({"pmcid": ["PMC1"], "version": [2], "metadata_etag": ["a"]})
    excluded = pa.Table.from_pylist(
        [
            {"pmcid": "PMC2", "version": 1, "metadata_etag": "b", "reason": "unchanged"},
            {"pmcid": "PMC3", "version": 1, "metadata_etag": "c", "reason": "license"},
            {"pmcid": "PMC4", "version": 1, "metadata_etag": "d", "reason": "metadata_error"},
            {"pmcid": "PMC5", "version": 1, "metadata_etag": None, "reason": "retracted"},
        ]
    )
    return mf.previous_build(manifest, excluded)


def test_an_earlier_verdict_carries_over_only_for_the_same_object():
    previous = _previous()
    assert previous.kept.to_pylist() == [
        {"pmcid": 1, "version": 2, "metadata_etag": "a"},
        {"pmcid": 2, "version": 1, "metadata_etag": "b"},
    ]
    cases = [
        ((1, 2, "a"), "unchanged"),
        ((2, 1, "b"), "unchanged"),
        ((3, 1, "c"), "license"),
        ((1, 3, "a"), None),  # a new version
        ((3, 1, "x"), None),  # edited metadata
        ((4, 1, "d"), None),  # a read error is tried again
        ((5, 1, None), None),  # no ETag to compare: read it
        ((5, 1, ""), None),
        ((9, 1, "z"), None),  # new
        ((0, 1, "z"), None),  # before every PMCID the earlier build has
    ]
    listing = mf.listing_table(
        [ObjectRef(f"metadata/PMC{n}.{v}.json", e, f"PMC{n}", v) for (n, v, e), _ in cases]
    )
    assert mf.carried_verdicts(listing, previous).to_pylist() == [v for _, v in cases]
    nothing = mf.previous_build(
        mf.MANIFEST_SCHEMA.empty_table().select(["pmcid", "version", "metadata_etag"]),
        pa.table({"pmcid": ["PMC1"], "version": [2], "metadata_etag": ["a"], "reason": ["x"]}),
    )
    assert mf.carried_verdicts(listing, nothing).null_count == len(cases)


def test_of_repeated_pmcids_in_an_earlier_build_the_last_row_wins():
    manifest = pa.table({"pmcid": ["PMC7", "PMC3"], "version": [1, 1], "metadata_etag": ["a", "b"]})
    excluded = pa.table(
        {"pmcid": ["PMC7"], "version": [2], "metadata_etag": ["c"], "reason": ["unchanged"]}
    )
    kept = mf.previous_build(manifest, excluded).kept
    assert kept.to_pylist() == [
        {"pmcid": 3, "version": 1, "metadata_etag": "b"},
        {"pmcid": 7, "version": 2, "metadata_etag": "c"},
    ]


def test_known_versions_of_a_chunk():
    kept = _previous().kept
    assert mf.known_versions(kept, np.array([0, 2, 3, 9])) == {"PMC2": (1, "b")}
    assert mf.known_versions(kept, np.array([], dtype=np.int64)) == {}


def test_removed_articles_are_withdrawn_or_flagged():
    kept = _previous().kept  # PMC1, PMC2
    removed = mf.removed_table(kept, {"PMC2": "retracted"}, np.array([2, 5]))
    assert removed.to_pylist() == [
        {"pmcid": "PMC1", "version": 2, "reason": "withdrawn"},
        {"pmcid": "PMC2", "version": 1, "reason": "retracted"},
    ]
    assert mf.removed_table(kept, {}, np.array([1, 2])).num_rows == 0
    assert mf.removed_table(kept, {}, np.array([], dtype=np.int64)).num_rows == 2


def test_gif_thumbnails_beside_a_full_image_are_not_fetched():
    meta = {
        "xml_url": "s3://pmc-oa-opendata/PMC1.1/PMC1.1.xml?md5=x",
        "media_urls": [
            f"s3://pmc-oa-opendata/PMC1.1/{name}"
            for name in ("g1.gif", "g1.jpg", "G2.GIF", "g2.tif", "g3.gif", "s1.pdf", "s2.doc")
        ],
    }
    names = [f.name for f in article_files(meta)]
    assert names == ["PMC1.1.xml", "g1.jpg", "g2.tif", "g3.gif"]  # a GIF alone is the figure


def test_retries_then_success_and_give_up():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 4:
            raise Retryable("503 SlowDown")
        return "ok"

    assert with_retries(flaky, retries=5, base_delay=0.001) == "ok"
    assert len(calls) == 4
    with pytest.raises(SourceError, match="gave up after 3 attempts"):
        with_retries(lambda: (_ for _ in ()).throw(Retryable("503")), retries=2, base_delay=0.001)


def test_rate_limiter_spaces_requests():
    limiter = RateLimiter(50)
    start = time.monotonic()
    for _ in range(75):  # 50 burst + 25 at 50/s -> at least ~0.5 s
        limiter.acquire()
    assert time.monotonic() - start >= 0.4


def _member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 1) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, size
    return info


@pytest.mark.parametrize(
    "info,match",
    [
        (_member("../escape.txt"), "escapes"),
        (_member("/etc/passwd"), "escapes"),
        (_member("PMC1/link", tarfile.SYMTYPE), "link"),
        (_member("PMC1/hard", tarfile.LNKTYPE), "link"),
        (_member("PMC1/dev", tarfile.CHRTYPE), "not a regular file"),
        (_member("PMC1/big.jpg", size=10), "cap"),
    ],
)
def test_unsafe_tar_members_are_refused(info, match):
    with pytest.raises(UnsafePackage, match=match):
        check_member(info, "oa_package/aa/bb/PMC1.tar.gz", cap=5)


def test_safe_member_passes():
    check_member(_member("PMC1/a.jpg"), "k", cap=5)
