#!/usr/bin/env python3
"""Builds lore's retrieval evaluation sets (BEIR layout) from documentation packages.

Usage: scripts/build-eval-sets.py [--out tests/data/eval] [SET ...]

Every source is a Debian package pinned by version and SHA-256. It is fetched with
`apt-get download` (or, when that version has left the archive, from snapshot.debian.org by its
SHA-1), checked against the pinned hash, kept in the cache (~/.cache/lore-eval, or
$LORE_EVAL_CACHE) and unpacked there; a second run downloads nothing. Only the Python 3.11
standard library is used.

Each set is written to <out>/<name>/:
  corpus.jsonl        {"_id", "title", "text", "metadata": {"source"}}: one entry per section of
                      the documentation pages (cut at every heading; title = page title; text =
                      heading + body, except that an FAQ answer leaves its question out)
  queries.jsonl       {"_id", "text", "metadata": {"source", ...}}
  qrels.tsv           query-id, corpus-id, score (with a header line)
  unanswerable.jsonl  questions the corpus does not answer (ids u-...; metadata.kind is
                      "near-miss" or "off-domain")

Questions written by hand (the Chinese sets, and every unanswerable.jsonl) live in
scripts/eval-questions/<name>.json; their relevant sections are named there as "page#anchor"
and resolved to corpus ids here, so a question that points at no section stops the build.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "scripts" / "eval-questions"
CACHE = Path(os.environ.get("LORE_EVAL_CACHE", Path.home() / ".cache" / "lore-eval"))
SIZE_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class Package:
    """A Debian binary package pinned by version and hashes."""

    name: str
    version: str
    filename: str
    sha256: str
    sha1: str
    licence: str


PACKAGES = {
    p.name: p
    for p in [
        Package(
            "python-django-doc",
            "3:3.2.25-0+deb12u7",
            "python-django-doc_3.2.25-0+deb12u7_all.deb",
            "87307f067916df72e17180d35b7cde5c7ea6080336cda518efd7f6e66988a7ca",
            "73ee8faf367fbe3c973a6bbaf01ac8e12f953602",
            "BSD-3-Clause (Django Software Foundation)",
        ),
        Package(
            "sqlite3-doc",
            "3.40.1-2+deb12u2",
            "sqlite3-doc_3.40.1-2+deb12u2_all.deb",
            "466e30d7066e2641fa13e56bc662a2ad521b8cc9c17dde9c9dac3d4f105e32f2",
            "2a0943c41ea548999219087d8ccfeae78bc1104e",
            "public domain (SQLite documentation)",
        ),
        Package(
            "git-doc",
            "1:2.39.5-0+deb12u3",
            "git-doc_2.39.5-0+deb12u3_all.deb",
            "3c89668a11053a6bafade3de1f611f4613db31e082af63f43d8c5b69ad8795ec",
            "38e8a34fb150694e764bdb283a09a67ccc6c99de",
            "GPL-2.0 (Git documentation)",
        ),
        Package(
            "debian-reference-zh-cn",
            "2.100",
            "debian-reference-zh-cn_2.100_all.deb",
            "6d2d8d9a646397e28b04cdff23d2e4374101ebf9be348e35961af62c8a2d0977",
            "8e2aab0a711b9ac1ed4d254313557a41614a63df",
            "GPL-2.0-or-later or MIT-style (Debian Reference, Osamu Aoki)",
        ),
        Package(
            "debian-reference-ja",
            "2.100",
            "debian-reference-ja_2.100_all.deb",
            "f67140e0b994409413bd5fcc8dfcce832445c99d724401f0275fa238daf30325",
            "8323247a2019069c140e59530fa1d3ff9e309a52",
            "GPL-2.0-or-later or MIT-style (Debian Reference, Osamu Aoki)",
        ),
        Package(
            "debian-reference-en",
            "2.100",
            "debian-reference-en_2.100_all.deb",
            "9f31d3a17df505de09689ca255512ea58c1fc47c59bb1b0c7bf1c23362e9743f",
            "c960d3c4db07789ed5eeb04d5396938673621702",
            "GPL-2.0-or-later or MIT-style (Debian Reference, Osamu Aoki)",
        ),
    ]
}


# ---------------------------------------------------------------------------------------------
# Fetching and unpacking


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(pkg: Package) -> Path:
    """The package file in the cache, downloaded and hash-checked when missing."""
    debs = CACHE / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    target = debs / pkg.filename
    if target.is_file() and sha256_of(target) == pkg.sha256:
        return target
    tmp = CACHE / "download"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    got = None
    if shutil.which("apt-get"):
        r = subprocess.run(
            ["apt-get", "download", f"{pkg.name}={pkg.version}"],
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        found = list(tmp.glob(f"{pkg.name}_*.deb"))
        if r.returncode == 0 and found:
            got = found[0]
        else:
            print(f"apt-get download {pkg.name}={pkg.version} failed: {r.stderr.strip()}", file=sys.stderr)
    if got is None and pkg.sha1:
        url = f"https://snapshot.debian.org/file/{pkg.sha1}"
        print(f"fetching {url}", file=sys.stderr)
        got = tmp / pkg.filename
        with urllib.request.urlopen(url, timeout=120) as resp, got.open("wb") as out:
            shutil.copyfileobj(resp, out)
    if got is None:
        sys.exit(f"cannot download {pkg.name} {pkg.version}")
    digest = sha256_of(got)
    if digest != pkg.sha256:
        sys.exit(f"{pkg.name}: SHA-256 {digest} is not the pinned {pkg.sha256}")
    os.replace(got, target)
    shutil.rmtree(tmp, ignore_errors=True)
    return target


def ar_members(data: bytes):
    """The members of an ar archive (a .deb) as (name, bytes)."""
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not an ar archive")
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        pos += 60
        yield name, data[pos : pos + size]
        pos += size + (size & 1)


def unpack(pkg: Package) -> Path:
    """The package's files, unpacked once into the cache."""
    dest = CACHE / "x" / f"{pkg.name}_{pkg.sha256[:12]}"
    stamp = dest / ".unpacked"
    if stamp.is_file():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    deb = fetch(pkg).read_bytes()
    for name, body in ar_members(deb):
        if name.startswith("data.tar"):
            if name.endswith(".xz"):
                body = lzma.decompress(body)
            mode = "r:gz" if name.endswith(".gz") else "r:"
            with tarfile.open(fileobj=io.BytesIO(body), mode=mode) as tar:
                tar.extractall(dest, filter="data")
            break
    else:
        sys.exit(f"{pkg.name}: no data.tar member")
    stamp.write_text(pkg.sha256)
    return dest


# ---------------------------------------------------------------------------------------------
# HTML to sections

BLOCK = {
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "thead", "tr", "ul",
}
CELLS = {"td", "th"}  # a table row becomes one line, its cells separated by " | "
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


@dataclass
class Rule:
    """Which elements of a page to read: `root` opens the content, `skip` drops an element."""

    root: callable
    skip: callable
    # An element that counts as a heading besides h1-h6: returns its level or None.
    heading: callable = lambda tag, attrs: None


def classes(attrs: dict) -> set:
    return set((attrs.get("class") or "").split())


class Blocks(HTMLParser):
    """Turns a page into a list of ("h", level, text, anchor) and ("t", text) events."""

    def __init__(self, rule: Rule):
        super().__init__(convert_charrefs=True)
        self.rule = rule
        self.events: list = []
        self.title = ""
        self._in_title = False
        self._root_depth = None  # depth of open tags of the root's name, or None outside
        self._root_tag = None
        self._skip_tag = None
        self._skip_depth = 0
        self._pre = 0
        self._heading = None  # (level, tag, anchor) while inside a heading
        self._buf: list[str] = []
        self._anchor = None  # the last id seen, for headings that carry theirs on a child

    # -- helpers
    def _flush(self):
        text = "".join(self._buf)
        self._buf = []
        if self._heading is not None:
            return text
        if self._pre:
            text = text.strip("\n").rstrip()
        else:
            text = re.sub(r"\s+", " ", text).strip()
        if text.strip():
            self.events.append(("t", text))
            self._anchor = None
        return None

    def _inside(self) -> bool:
        return self._root_depth is not None and self._skip_tag is None

    def handle_starttag(self, tag, attrs_list):
        attrs = dict(attrs_list)
        if tag == "title":
            self._in_title = True
        if self._root_depth is None:
            if self.rule.root(tag, attrs):
                self._root_tag, self._root_depth = tag, 0
            else:
                return
        elif tag == self._root_tag and tag not in VOID:
            self._root_depth += 1
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        if self.rule.skip(tag, attrs):
            if tag not in VOID:
                self._skip_tag, self._skip_depth = tag, 1
            return
        if attrs.get("id"):
            self._anchor = attrs["id"]
        elif tag == "a" and attrs.get("name"):
            self._anchor = attrs["name"]
        level = HEADINGS.get(tag) or self.rule.heading(tag, attrs)
        if level and self._heading is None:
            before = self._anchor if not "".join(self._buf).strip() else None
            self._flush()
            self._heading = (level, tag, attrs.get("id") or before)
            self._anchor = None
            return
        if tag in BLOCK:
            if self._heading is not None:
                self._buf.append(" ")
            else:
                self._flush()
        elif tag in CELLS and "".join(self._buf).strip():
            self._buf.append(" | ")
        if tag == "pre":
            self._pre += 1

    def handle_startendtag(self, tag, attrs_list):
        self.handle_starttag(tag, attrs_list)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if self._root_depth is None:
            return
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        if self._heading is not None and tag == self._heading[1]:
            level, _, anchor = self._heading
            self._heading = None
            text = re.sub(r"\s+", " ", "".join(self._buf)).strip()
            self._buf = []
            anchor = anchor or self._anchor
            self._anchor = None
            self._buf = []
            if text:
                self.events.append(("h", level, text, anchor))
            return
        if tag in BLOCK and self._heading is None:
            self._flush()
        if tag == "pre" and self._pre:
            self._pre -= 1
        if tag == self._root_tag:
            if self._root_depth == 0:
                self._flush()
                self._root_depth = None
            else:
                self._root_depth -= 1

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._inside():
            self._buf.append(data)

    def close(self):
        super().close()
        if self._heading is None:
            self._flush()


def parse_page(path: Path, rule: Rule, preprocess=None) -> tuple[str, list]:
    parser = Blocks(rule)
    text = path.read_text(encoding="utf-8", errors="replace")
    if preprocess:
        text = preprocess(text)
    parser.feed(text)
    parser.close()
    return re.sub(r"\s+", " ", parser.title).strip(), parser.events


@dataclass
class Section:
    """A heading and the text up to the next heading."""

    page: str  # path of the page, relative to the documentation root
    page_title: str
    level: int
    heading: str
    anchor: str | None
    body: list[str] = field(default_factory=list)
    index: int = 0  # position in the page, for a heading without an anchor

    @property
    def key(self) -> str:
        if self.anchor:
            return f"{self.page}#{self.anchor}"
        return f"{self.page}#@{self.index}" if self.index else self.page

    def body_text(self) -> str:
        return "\n\n".join(self.body).strip()


def cut(page: str, page_title: str, events: list) -> list[Section]:
    """Sections of a page: one per heading; text before the first heading goes to a section
    headed by the page title."""
    out = [Section(page, page_title, 0, page_title, None)]
    for ev in events:
        if ev[0] == "h":
            out.append(Section(page, page_title, ev[1], ev[2], ev[3], index=len(out)))
        else:
            out[-1].body.append(ev[1])
    return out


def clean_heading(text: str) -> str:
    return re.sub(r"\s*¶$", "", text).strip()


# ---------------------------------------------------------------------------------------------
# Writing a set


@dataclass
class EvalSet:
    name: str
    prefix: str
    corpus: list = field(default_factory=list)  # dicts
    queries: list = field(default_factory=list)  # dicts
    qrels: list = field(default_factory=list)  # (qid, cid, score)
    unanswerable: list = field(default_factory=list)
    by_key: dict = field(default_factory=dict)  # section key -> corpus id

    def add_doc(self, key: str, title: str, text: str) -> str:
        cid = f"{self.prefix}-{len(self.corpus) + 1:04d}"
        if key in self.by_key:
            raise ValueError(f"{self.name}: section {key} twice")
        self.by_key[key] = cid
        self.corpus.append({"_id": cid, "title": title, "text": text, "metadata": {"source": key}})
        return cid

    def add_query(self, text: str, source: str, relevant: list[str], **meta) -> str:
        qid = f"q-{self.prefix}-{len(self.queries) + 1:04d}"
        self.queries.append({"_id": qid, "text": text, "metadata": {"source": source, **meta}})
        for cid in relevant:
            self.qrels.append((qid, cid, 1))
        return qid

    def resolve(self, key: str) -> str:
        if key not in self.by_key:
            close = [k for k in self.by_key if k.split("#")[0] == key.split("#")[0]][:8]
            sys.exit(f"{self.name}: no section {key!r} (sections of that page: {close})")
        return self.by_key[key]

    def authored(self, source: str):
        """Adds the hand-written questions of scripts/eval-questions/<name>.json, if any."""
        path = QUESTIONS / f"{self.name}.json"
        if not path.is_file():
            return
        data = json.loads(path.read_text(encoding="utf-8"))
        seen = {q["text"] for q in self.queries}
        for q in data.get("queries", []):
            if q["text"] in seen:
                sys.exit(f"{self.name}: question twice: {q['text']}")
            seen.add(q["text"])
            rel = [self.resolve(k) for k in q["relevant"]]
            self.add_query(q["text"], f"authored over {source}", rel, sections=q["relevant"])
        useen = set()
        for i, q in enumerate(data.get("unanswerable", []), 1):
            if q["text"] in useen or q["text"] in seen:
                sys.exit(f"{self.name}: unanswerable question twice: {q['text']}")
            useen.add(q["text"])
            self.unanswerable.append(
                {
                    "_id": f"u-{self.prefix}-{i:03d}",
                    "text": q["text"],
                    "metadata": {"source": f"authored over {source}", "kind": q["kind"]},
                }
            )

    def write(self, out: Path):
        d = out / self.name
        d.mkdir(parents=True, exist_ok=True)
        ids = [c["_id"] for c in self.corpus]
        assert len(set(ids)) == len(ids)
        judged = {q for q, _, _ in self.qrels}
        for q in self.queries:
            if q["_id"] not in judged:
                sys.exit(f"{self.name}: query {q['_id']} has no judgement")
        texts = [q["text"] for q in self.queries]
        if len(set(texts)) != len(texts):
            sys.exit(f"{self.name}: duplicate queries")
        # A question copied word for word into some section (a table of contents, say) would
        # make the set a string-matching test.
        flat = [re.sub(r"\W+", " ", (c["title"] + " " + c["text"]).lower()) for c in self.corpus]
        for q in self.queries + self.unanswerable:
            needle = re.sub(r"\W+", " ", q["text"].lower()).strip()
            if len(needle) > 25:
                where = [self.corpus[i]["_id"] for i, f in enumerate(flat) if needle in f]
                if where:
                    print(f"warning: {self.name}: {q['_id']} appears verbatim in {where}", file=sys.stderr)

        def jsonl(rows):
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)

        files = {
            "corpus.jsonl": jsonl(self.corpus),
            "queries.jsonl": jsonl(self.queries),
            "qrels.tsv": "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{c}\t{s}\n" for q, c, s in self.qrels),
        }
        if self.unanswerable:
            files["unanswerable.jsonl"] = jsonl(self.unanswerable)
        total = 0
        for name, text in files.items():
            data = text.encode("utf-8")
            total += len(data)
            p = d / name
            if not p.is_file() or p.read_bytes() != data:
                p.write_bytes(data)
        if total > SIZE_LIMIT:
            print(f"warning: {self.name} is {total / 1e6:.1f} MB", file=sys.stderr)
        print(
            f"{self.name}: {len(self.corpus)} documents, {len(self.queries)} queries, "
            f"{len(self.qrels)} judgements, {len(self.unanswerable)} unanswerable, {total / 1e6:.2f} MB"
        )


# ---------------------------------------------------------------------------------------------
# The sets


def is_question(text: str) -> bool:
    return text.rstrip().endswith("?")


# FAQ headings that name a topic rather than ask or state a problem.
DJANGO_NOT_ASKED = {"macOS permissions"}


def build_django() -> EvalSet:
    pkg = PACKAGES["python-django-doc"]
    src = f"{pkg.name} {pkg.version}"
    root = unpack(pkg) / "usr/share/doc/python-django-doc/html"
    rule = Rule(
        root=lambda tag, a: tag == "div" and "yui-g" in classes(a),
        skip=lambda tag, a: tag in ("script", "style")
        or (tag == "a" and "headerlink" in classes(a))
        or (tag == "span" and "viewcode-link" in classes(a))
        or (tag == "div" and classes(a) & {"sphinxsidebar", "nav", "toctree-wrapper"}),
    )
    pages = sorted(
        p.relative_to(root).as_posix()
        for d in ("intro", "topics", "howto", "faq", "ref", "misc")
        for p in (root / d).rglob("*.html")
        # GeoDjango's 280 sections would push the set past 4 MB; release notes are left out too.
        if not p.relative_to(root).as_posix().startswith("ref/contrib/gis/")
    ) + ["glossary.html"]
    s = EvalSet("django-faq", "dj")
    # Every FAQ entry is a query: the questions, and the problem statements ("Some objects aren't
    # appearing in the admin.", "command not found: django-admin").
    faq = add_pages(
        s, root, pages, rule,
        asked=lambda page, sec, h: h
        if page.startswith("faq/") and sec.level >= 2 and h not in DJANGO_NOT_ASKED
        else None,
        title_of=lambda title, secs: next((clean_heading(x.heading) for x in secs if x.level == 1), title),
    )
    for heading, key, cid in faq:
        s.add_query(heading, f"{pkg.name}:{key}", [cid])
    s.authored(src)
    return s


def add_pages(s: EvalSet, root: Path, pages: list[str], rule: Rule, asked, preprocess=None, title_of=None) -> list:
    """Adds every section of the pages to the corpus; returns (question, key, corpus id) for the
    sections `asked(page, section, heading)` names as FAQ entries (their text leaves the question
    out)."""
    faq = []
    for page in pages:
        title, events = parse_page(root / page, rule, preprocess.get(page) if preprocess else None)
        secs = cut(page, title, events)
        page_title = title_of(title, secs) if title_of else title
        for sec in secs:
            heading = clean_heading(sec.heading)
            body = sec.body_text()
            if not body:
                continue
            if sec.level == 0 and len(body) < 200 and len(secs) > 1:
                continue  # text before the first heading: usually nothing worth a section
            question = asked(page, sec, heading)
            text = body if question else f"{heading}\n\n{body}"
            cid = s.add_doc(sec.key, page_title, text)
            if question:
                faq.append((question, sec.key, cid))
    return faq


def sqlite_faq_headings(text: str) -> str:
    """faq.html sets each question as <p><b>(N) question</b></p>: make those headings. Its list
    of the questions at the top is left out."""
    text = re.sub(r"<ol class=nounderline>.*?</ol>", "", text, count=1, flags=re.S)
    return re.sub(
        r"<p><b>\((\d+)\)\s*(.*?)</b></p>",
        lambda m: f'<h3 id="q{m.group(1)}">{m.group(2)}</h3>',
        text,
        flags=re.S,
    )


def sqlite_page(text: str) -> str:
    return re.sub(r"<p align=\"center\"><small><i>This page last modified.*?</p>", "", text, flags=re.S)


# SQLite pages that are indexes, cross-references, news or legal papers rather than documentation.
SQLITE_LEFT_OUT = {
    "capi3ref.html", "changes.html", "chronology.html", "doc_backlink_crossref.html",
    "doc_keyword_crossref.html", "doc_pagelink_crossref.html", "doc_target_crossref.html",
    "doclist.html", "docs.html", "keyword_index.html", "requirements.html", "sitemap.html",
    "syntaxdiagrams.html", "news.html", "oldnews.html", "pressrelease-20071212.html",
    "consortium_agreement-20071201.html", "copyright-release.html", "download.html", "index.html",
    "lang.html", "c3ref/funclist.html", "c3ref/objlist.html", "c3ref/constlist.html",
}


def build_sqlite() -> EvalSet:
    s = EvalSet("sqlite-faq", "sq")
    pkg = PACKAGES["sqlite3-doc"]
    src = f"{pkg.name} {pkg.version}"
    root = unpack(pkg) / "usr/share/doc/sqlite3"
    rule = Rule(
        root=lambda tag, a: tag == "body",
        skip=lambda tag, a: tag in ("script", "style", "svg", "button")
        or (tag == "div" and ("nosearch" in classes(a) or "imgcontainer" in classes(a))),
    )
    pages = sorted(
        p.relative_to(root).as_posix()
        for p in list(root.glob("*.html")) + list(root.glob("c3ref/*.html"))
        if p.relative_to(root).as_posix() not in SQLITE_LEFT_OUT
    )
    pre = {p: sqlite_page for p in pages}
    pre["faq.html"] = lambda t: sqlite_faq_headings(sqlite_page(t))
    faq = add_pages(
        s, root, pages, rule,
        asked=lambda page, sec, h: h if page == "faq.html" and sec.level == 3 else None,
        preprocess=pre,
    )
    for question, key, cid in faq:
        s.add_query(question, f"{pkg.name}:{key}", [cid])
    s.authored(src)
    return s


def build_git() -> EvalSet:
    s = EvalSet("git-faq", "gt")
    pkg = PACKAGES["git-doc"]
    src = f"{pkg.name} {pkg.version}"
    root = unpack(pkg) / "usr/share/doc/git-doc"
    rule = Rule(
        root=lambda tag, a: tag == "body",
        skip=lambda tag, a: tag in ("script", "style") or (tag == "div" and a.get("id") == "footer"),
    )
    pages = sorted(p.name for p in root.glob("git*.html")) + ["everyday.html", "scalar.html", "user-manual.html"]

    def gitfaq(text: str) -> str:
        n = iter(range(1, 1000))
        text = re.sub(r'<dt class="hdlist1">', lambda m: f'<h3 id="gitfaq-q{next(n)}">', text)
        return re.sub(r"</dt>", "</h3>", text)

    faq = add_pages(
        s, root, pages, rule,
        asked=lambda page, sec, h: h if page == "gitfaq.html" and sec.level == 3 else None,
        preprocess={"gitfaq.html": gitfaq},
        title_of=lambda title, secs: next((clean_heading(x.heading) for x in secs if x.level == 1), title),
    )
    for question, key, cid in faq:
        s.add_query(question, f"{pkg.name}:{key}", [cid])
    s.authored(src)
    return s


def build_debref(name: str, prefix: str, lang: str) -> EvalSet:
    """The Debian Reference (DocBook HTML) cut into sections; its questions are all written by
    hand."""
    s = EvalSet(name, prefix)
    pkg = PACKAGES[f"debian-reference-{lang}"]
    src = f"{pkg.name} {pkg.version}"
    root = unpack(pkg) / "usr/share/debian-reference"
    rule = Rule(
        root=lambda tag, a: tag == "div" and bool(classes(a) & {"chapter", "preface", "appendix"}),
        skip=lambda tag, a: tag in ("script", "style")
        or (tag == "div" and bool(classes(a) & {"toc", "navheader", "navfooter", "list-of-tables"})),
    )
    pages = [f"pr01.{lang}.html"] + [f"ch{i:02d}.{lang}.html" for i in range(1, 13)] + [f"apa.{lang}.html"]
    add_pages(
        s, root, pages, rule,
        asked=lambda page, sec, h: None,
        title_of=lambda title, secs: next((clean_heading(x.heading) for x in secs if x.level == 1), title),
    )
    s.authored(src)
    return s


SETS = {
    "django-faq": build_django,
    "sqlite-faq": build_sqlite,
    "git-faq": build_git,
    "debref-zh": lambda: build_debref("debref-zh", "dz", "zh-cn"),
    "debref-en-zhq": lambda: build_debref("debref-en-zhq", "de", "en"),
    "debref-ja": lambda: build_debref("debref-ja", "dj", "ja"),
    "debref-en-jaq": lambda: build_debref("debref-en-jaq", "dk", "en"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "eval")
    ap.add_argument("sets", nargs="*", help=f"sets to build (default: all of {', '.join(SETS)})")
    args = ap.parse_args()
    for name in args.sets or SETS:
        if name not in SETS:
            sys.exit(f"unknown set {name}")
        SETS[name]().write(args.out)


if __name__ == "__main__":
    main()
