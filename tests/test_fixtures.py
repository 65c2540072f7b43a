"""The test data itself: bucket layout, inventory, legacy mirror, moto, the proxy, the demo."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import boto3
import imagehash
import pytest
import requests
from botocore import UNSIGNED
from botocore.client import Config as BotoConfig
from botocore.exceptions import ClientError
from PIL import Image

from pmc_pipeline.bucket_layout import (
    FILE_LIST_HEADER,
    ArticleSpec,
    LayoutError,
    write_bucket,
    write_legacy_mirror,
)
from pmc_pipeline.demo import MARKER, DemoError, build_demo_source, demo_articles
from pmc_pipeline.sources import LegacySource, LocalSource, SourceError, UnsafePackage, open_source
from pmc_pipeline.sources.base import article_files
from tests.fixtures import corpus_bucket as cb

FIELDS = [
    "pmcid",
    "version",
    "pmid",
    "doi",
    "mid",
    "title",
    "citation",
    "is_pmc_openaccess",
    "is_manuscript",
    "is_historical_ocr",
    "is_retracted",
    "license_code",
    "xml_url",
    "text_url",
    "pdf_url",
    "media_urls",
]
INVENTORY = "inventory-reports/pmc-oa-opendata/metadata"


def _url_key_md5(url: str) -> tuple[str, str]:
    key, md5 = url.removeprefix("s3://pmc-oa-opendata/").split("?md5=")
    return key, md5


def _meta(bucket: Path, pmcid: str, version: int = 1) -> dict:
    return json.loads((bucket / "metadata" / f"{pmcid}.{version}.json").read_text())


def _pmcid_of(corpus_dir: Path, folder: str) -> str:
    entry = next(e for e in cb._manifest(corpus_dir) if e["id"] == folder)
    return cb.corpus_pmcid(entry)


def _all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# --- the bucket folder ------------------------------------------------------------------


def test_every_article_version_has_its_files_and_a_metadata_copy(corpus_bucket_dir: Path):
    metas = sorted((corpus_bucket_dir / "metadata").glob("*.json"))
    assert len(metas) == 36  # 28 corpus articles, 6 extras, 2 superseded versions
    for path in metas:
        prefix = path.stem
        folder = corpus_bucket_dir / prefix
        assert (folder / f"{prefix}.json").read_bytes() == path.read_bytes()
        meta = json.loads(path.read_bytes())
        assert list(meta)[: FIELDS.index("pdf_url")] == FIELDS[: FIELDS.index("pdf_url")]
        assert [k for k in meta if k != "pdf_url"] == [k for k in FIELDS if k != "pdf_url"]
        assert isinstance(meta["version"], int)
        assert meta["pmid"] is None or isinstance(meta["pmid"], int)
        urls = [meta["xml_url"], meta["text_url"], meta.get("pdf_url"), *meta["media_urls"]]
        for url in filter(None, urls):
            key, md5 = _url_key_md5(url)
            assert key.startswith(f"{prefix}/")
            assert hashlib.md5((corpus_bucket_dir / key).read_bytes()).hexdigest() == md5


def test_pdf_url_absent_null_or_present(corpus_bucket_dir: Path, corpus_dir: Path):
    no_pdf = _meta(corpus_bucket_dir, _pmcid_of(corpus_dir, cb.NO_PDF))
    null_pdf = _meta(corpus_bucket_dir, _pmcid_of(corpus_dir, cb.NULL_PDF))
    assert "pdf_url" not in no_pdf
    assert "pdf_url" in null_pdf and null_pdf["pdf_url"] is None
    assert list(null_pdf) == FIELDS
    with_pdf = _meta(corpus_bucket_dir, "PMC2924383")
    assert list(with_pdf) == FIELDS and with_pdf["pdf_url"].split("?")[0].endswith(".pdf")


def test_media_urls_list_images_thumbnails_and_supplements(corpus_bucket_dir, corpus_dir):
    names = [
        _url_key_md5(u)[0].split("/")[1]
        for u in _meta(corpus_bucket_dir, "PMC2924383")["media_urls"]
    ]
    assert "pone.0012255.g001.gif" in names and "pone.0012255.s001.tif" in names
    assert len(names) == 9
    pone = _meta(corpus_bucket_dir, _pmcid_of(corpus_dir, "pone.0091296"))["media_urls"]
    assert any(".s001.doc?" in u for u in pone) and any(".s002.zip?" in u for u in pone)
    supplements = {n for names in cb.SUPPLEMENTS.values() for n in names}
    assert {n.rsplit(".", 1)[1] for n in supplements} >= {"doc", "zip", "mp4", "xlsx"}


def test_extras_carry_their_flags(corpus_bucket_dir: Path):
    assert _meta(corpus_bucket_dir, cb.NON_OA)["is_pmc_openaccess"] is False
    assert _meta(corpus_bucket_dir, cb.RETRACTED)["is_retracted"] is True
    assert _meta(corpus_bucket_dir, cb.MANUSCRIPT)["mid"] == "NIHMS8000003"
    ocr = _meta(corpus_bucket_dir, cb.OCR_SCAN)
    assert ocr["is_historical_ocr"] is True and ocr["doi"] is None
    xmls = {
        v: (corpus_bucket_dir / f"{cb.MULTI_VERSION}.{v}" / f"{cb.MULTI_VERSION}.{v}.xml")
        for v in cb.MULTI_VERSIONS
    }
    assert len({p.read_bytes() for p in xmls.values()}) == 3
    assert b"[version 10]" in xmls[10].read_bytes()


def test_license_codes_are_mapped_from_the_corpus(corpus_bucket_dir: Path, corpus_dir: Path):
    assert _meta(corpus_bucket_dir, "PMC3532326")["license_code"] == "CC BY"
    assert _meta(corpus_bucket_dir, "PMC10335194")["license_code"] == "CC BY-NC-ND"
    assert _meta(corpus_bucket_dir, "PMC2599765")["license_code"] == "CC0"  # publicdomain/mark
    assert _meta(corpus_bucket_dir, _pmcid_of(corpus_dir, "elife-46472-v3"))["license_code"] == (
        "CC0"
    )
    assert _meta(corpus_bucket_dir, "PMC2924383")["license_code"] == "NO-CC CODE"


def test_expected_sets_cover_every_pmcid_once(corpus_dir: Path):
    pmcids = {s.pmcid for s in cb.corpus_articles(corpus_dir)}
    kept, excluded = cb.expected_kept(corpus_dir), cb.expected_excluded(corpus_dir)
    assert kept | set(excluded) == pmcids and not kept & set(excluded)
    assert excluded == {
        cb.NON_OA: "not_open_access",
        cb.RETRACTED: "retracted",
        cb.MANUSCRIPT: "author_manuscript",
        cb.OCR_SCAN: "historical_ocr",
    }
    assert cb.MULTI_VERSION in kept and cb.NON_COMMERCIAL in kept
    comm = {"CC0", "CC BY", "CC BY-SA", "CC BY-ND"}
    filtered = cb.expected_excluded(corpus_dir, comm)
    assert filtered[cb.NON_COMMERCIAL] == "license" and filtered["PMC10335194"] == "license"
    assert filtered[cb.NON_OA] == "not_open_access"  # first reason wins
    assert cb.expected_kept(corpus_dir, include_manuscripts=True) >= {cb.MANUSCRIPT}


def test_inventory_lists_every_metadata_key_and_an_older_one_fewer(corpus_bucket_dir: Path):
    keys = {
        f"metadata/{p.name}": hashlib.md5(p.read_bytes()).hexdigest()
        for p in (corpus_bucket_dir / "metadata").glob("*.json")
    }
    manifests = sorted((corpus_bucket_dir / INVENTORY).glob("*/manifest.json"))
    assert [p.parent.name for p in manifests] == ["2026-11-26T01-00Z", "2026-11-27T01-00Z"]
    listed = []
    for manifest_path in manifests:
        manifest = json.loads(manifest_path.read_text())
        assert manifest["sourceBucket"] == "pmc-oa-opendata"
        assert manifest["fileFormat"] == "CSV"
        assert manifest["fileSchema"] == "Bucket, Key, LastModifiedDate, ETag"
        rows = []
        for entry in manifest["files"]:
            data = (corpus_bucket_dir / entry["key"]).read_bytes()
            assert entry["size"] == len(data)
            assert entry["MD5checksum"] == hashlib.md5(data).hexdigest()
            assert data[4:8] == b"\0\0\0\0"  # gzip mtime 0: deterministic
            text = gzip.decompress(data).decode()
            assert text.startswith('"pmc-oa-opendata","metadata/')  # no header, quoted
            rows += list(csv.reader(io.StringIO(text)))
        listed.append((len(manifest["files"]), {r[1]: r[3] for r in rows}))
    (old_files, old), (new_files, new) = listed
    assert new == keys and new_files == 2
    assert old_files == 1 and set(old) < set(new)


def test_layout_refuses_unsafe_names_and_duplicates(tmp_path: Path):
    with pytest.raises(LayoutError, match="plain file name"):
        ArticleSpec("PMC1", 1, b"<article/>", media={"../x.jpg": b""})
    with pytest.raises(LayoutError, match="not a PMCID"):
        ArticleSpec("12", 1, b"<article/>")
    spec = ArticleSpec("PMC1", 1, b"<article/>")
    with pytest.raises(LayoutError, match="given twice"):
        write_bucket(tmp_path, [spec, spec], inventory=False)


def test_build_is_deterministic(tmp_path: Path, corpus_dir: Path, corpus_bucket_dir: Path):
    again = cb.build_corpus_bucket(tmp_path / "again", corpus_dir)
    assert _all_files(again) == _all_files(corpus_bucket_dir)


# --- the legacy mirror -------------------------------------------------------------------


def test_legacy_mirror_lists_every_corpus_article(legacy_mirror_dir: Path, corpus_dir: Path):
    text = (legacy_mirror_dir / "oa_file_list.csv").read_text()
    assert text.splitlines()[0] == ",".join(FILE_LIST_HEADER)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 28
    real = next(r for r in rows if r["Accession ID"] == "PMC3532326")
    assert real["PMID"] == "PMID:23116482" and real["File"].startswith("oa_package/")
    assert (legacy_mirror_dir / real["File"]).read_bytes() == (
        corpus_dir / cb.REAL_PACKAGE
    ).read_bytes()
    source = LegacySource(legacy_mirror_dir)
    assert len(list(source.list_metadata())) == 28


def test_generated_package_has_one_pmcid_folder(legacy_mirror_dir: Path):
    rows = list(csv.DictReader((legacy_mirror_dir / "oa_file_list.csv").open()))
    row = next(r for r in rows if r["Accession ID"] == "PMC2924383")
    with tarfile.open(legacy_mirror_dir / row["File"]) as tar:
        names = tar.getnames()
    assert {n.split("/")[0] for n in names} == {"PMC2924383"}
    assert "PMC2924383/pone.0012255.nxml" in names
    assert "PMC2924383/pone.0012255.g001.gif" in names
    assert "PMC2924383/pone.0012255.pdf" in names
    fetched = LegacySource(legacy_mirror_dir).fetch_article({"xml_key": row["File"]})
    assert fetched.files[0].name == "pone.0012255.nxml"


def test_evil_tarballs_are_refused(tmp_path: Path):
    evil = cb.evil_tarballs()
    write_legacy_mirror(tmp_path, [], extra_tarballs=evil)
    source = LegacySource(tmp_path)
    refs = list(source.list_metadata())
    assert len(refs) == 2
    for ref in refs:
        with pytest.raises(UnsafePackage, match="escapes|link"):
            source.fetch_article({"xml_key": ref.key})


# --- moto on loopback ---------------------------------------------------------------------


def _unsigned(endpoint_url: str):
    config = BotoConfig(signature_version=UNSIGNED)
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url, region_name="us-east-1", config=config
    )


def test_moto_serves_unsigned_get_and_list(s3_server, corpus_bucket_dir: Path):
    client = _unsigned(s3_server.endpoint_url)
    key = "PMC2924383.1/pone.0012255.g001.jpg"
    body = client.get_object(Bucket="pmc-oa-opendata", Key=key)["Body"].read()
    assert body == (corpus_bucket_dir / key).read_bytes()
    page = client.list_objects_v2(Bucket="pmc-oa-opendata", Prefix="metadata/", MaxKeys=10)
    assert page["IsTruncated"] and len(page["Contents"]) == 10
    page2 = client.list_objects_v2(
        Bucket="pmc-oa-opendata",
        Prefix="metadata/",
        ContinuationToken=page["NextContinuationToken"],
    )
    assert page["KeyCount"] + page2["KeyCount"] == 36
    assert requests.get(f"{s3_server.bucket_url}/{key}", timeout=10).content == body
    listing = requests.get(
        f"{s3_server.bucket_url}/", params={"list-type": "2", "prefix": "metadata/"}, timeout=10
    )
    assert listing.status_code == 200 and listing.text.count("<Key>") == 36


def test_moto_refuses_unsigned_reads_of_private_objects(s3_server):
    s3_server.admin_client().put_object(Bucket="pmc-oa-opendata", Key="private/x", Body=b"no")
    try:
        with pytest.raises(ClientError, match="403|Forbidden|AccessDenied"):
            _unsigned(s3_server.endpoint_url).get_object(Bucket="pmc-oa-opendata", Key="private/x")
    finally:
        s3_server.admin_client().delete_object(Bucket="pmc-oa-opendata", Key="private/x")


# --- the fault proxy ---------------------------------------------------------------------


def test_proxy_counts_and_injects_errors(fault_proxy, s3_server):
    url = f"{fault_proxy.url}/pmc-oa-opendata/metadata/PMC2924383.1.json"
    fault_proxy.fail("PMC2924383", status=503, times=2)
    answers = [requests.get(url, timeout=10) for _ in range(3)]
    assert [r.status_code for r in answers] == [503, 503, 200]
    assert b"<Code>SlowDown</Code>" in answers[0].content
    assert answers[2].json()["pmcid"] == "PMC2924383"
    assert fault_proxy.count == 3
    assert fault_proxy.requests[0] == ("GET", "/pmc-oa-opendata/metadata/PMC2924383.1.json")
    fault_proxy.drop("PMC2924383", times=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=10)
    fault_proxy.delay("PMC2924383", 0.05, times=1)
    assert requests.head(url, timeout=10).status_code == 200
    fault_proxy.reset()
    assert fault_proxy.count == 0 and requests.get(url, timeout=10).status_code == 200


def test_proxy_forwards_signed_writes(fault_proxy, s3_server):
    client = s3_server.admin_client()
    via_proxy = boto3.session.Session().client(
        "s3",
        endpoint_url=fault_proxy.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    body = bytes(range(256)) * 5000
    via_proxy.put_object(Bucket="pmc-oa-opendata", Key="scratch/blob", Body=body)
    try:
        assert client.get_object(Bucket="pmc-oa-opendata", Key="scratch/blob")["Body"].read() == (
            body
        )
        assert [m for m, _ in fault_proxy.requests] == ["PUT"]
    finally:
        via_proxy.delete_object(Bucket="pmc-oa-opendata", Key="scratch/blob")


@pytest.mark.parametrize("kind", ["s3", "https"])
def test_readers_retry_through_injected_faults(fault_proxy, kind, corpus_bucket_dir):
    spec = "s3://pmc-oa-opendata" if kind == "s3" else f"{fault_proxy.url}/pmc-oa-opendata"
    source = open_source(spec, endpoint_url=fault_proxy.url if kind == "s3" else None)
    source.configure(retries=3, limiter=None, max_object_bytes=1 << 30)
    key = "PMC3532326.1/PMC3532326.1.xml"
    fault_proxy.fail("PMC3532326.1.xml", times=2)
    fault_proxy.drop("PMC3532326.1.xml", times=1)
    assert source.get(key) == (corpus_bucket_dir / key).read_bytes()
    assert fault_proxy.count == 4
    fault_proxy.fail("PMC3532326.1.xml", times=10)
    with pytest.raises(SourceError, match="gave up"):
        source.get(key)


# --- the readers agree on the fixture data ---------------------------------------------


def test_local_s3_and_https_readers_see_the_same_bucket(corpus_bucket_dir, fault_proxy):
    sources = [
        open_source(str(corpus_bucket_dir)),
        open_source("s3://pmc-oa-opendata", endpoint_url=fault_proxy.url),
        open_source(f"{fault_proxy.url}/pmc-oa-opendata"),
    ]
    listings = [sorted((r.key, r.etag) for r in s.list_metadata()) for s in sources]
    assert listings[0] == listings[1] == listings[2]
    assert len(listings[0]) == 36  # the newest inventory, not the older half-size one
    xmls = []
    for source in sources:
        ref = next(
            r for r in source.list_metadata() if r.pmcid == cb.MULTI_VERSION and r.version == 10
        )
        xml = article_files(source.read_metadata(ref))[0]
        xmls.append(source.get(xml.key, xml.md5))
    assert xmls[0] == xmls[1] == xmls[2]
    assert b"[version 10]" in xmls[0]


# --- the demo source ----------------------------------------------------------------------


def test_demo_is_byte_deterministic_and_listed(tmp_path: Path):
    first = build_demo_source(tmp_path / "a", n_articles=16, seed=3)
    second = build_demo_source(tmp_path / "b", n_articles=16, seed=3)
    files = _all_files(first)
    assert files == _all_files(second) and MARKER in files
    refs = list(LocalSource(first).list_metadata())
    assert len(refs) == 17  # 16 articles, one with two versions
    assert sorted(r.key for r in refs) == sorted(k for k in files if k.startswith("metadata/"))
    assert build_demo_source(first, n_articles=16, seed=3) == first  # complete: a no-op
    with pytest.raises(DemoError, match="already holds"):
        build_demo_source(first, n_articles=16, seed=4)


def test_demo_holds_the_cases_the_pipeline_must_handle():
    specs = demo_articles(16, seed=0)
    by_pmcid: dict[str, list[ArticleSpec]] = {}
    for spec in specs:
        by_pmcid.setdefault(spec.pmcid, []).append(spec)
    assert [len(v) for v in by_pmcid.values()].count(2) == 1
    assert sum(not s.is_pmc_openaccess for s in specs) == 1
    assert sum(s.is_retracted for s in specs) == 1
    assert sum(s.license_code == "CC BY-NC" for s in specs) == 1
    images = [data for s in specs if s.version == 1 for data in s.media.values()]
    assert len(images) - len(set(images)) == 1  # one exact duplicate across articles
    assert all(1 <= len(s.media) <= 4 for s in specs)
    compound = [s for s in specs if b"(A) " in s.xml and b"(B) " in s.xml]
    assert len(compound) >= 3
    firsts = {s.pmcid: next(iter(s.media.values())) for s in specs}
    pmcids = sorted(firsts)
    for source, copy in ((7, -2), (8, -3)):  # near duplicates: rescaled, re-encoded
        a, b = (Image.open(io.BytesIO(firsts[pmcids[i]])) for i in (source, copy))
        assert a.size != b.size and imagehash.phash(a) - imagehash.phash(b) <= 4
    formats = {Image.open(io.BytesIO(d)).format for d in images}
    assert formats == {"PNG", "JPEG"}
