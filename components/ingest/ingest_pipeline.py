#!/usr/bin/env python3
"""Download a dataset archive and extract it into a data folder (the shared /VOCdevkit volume).

Streams the download to disk (never whole in memory), retries transient failures with
exponential backoff, optionally verifies a SHA-256, and extracts zip / tar / tar.gz archives
refusing any entry that would land outside the data folder. A second run with the same URL and
checksum is a no-op, recorded by a marker file.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import stat
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

MARKER = ".ingest-complete.json"
CHUNK = 1024 * 1024
TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}
# Entries are checked by this module before extraction; newer Pythons also want that said explicitly.
TRUSTED = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}


class IngestError(Exception):
    """A problem the user can act on; printed as one line on stderr."""


def log(message: str) -> None:
    print(f"ingest: {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="ingest_pipeline.py",
        description="Download a dataset archive (http, https or file URL) and extract it into DATAPATH.",
    )
    p.add_argument("--dataurl", required=True, help="URL of a .zip, .tar or .tar.gz archive (http, https, file)")
    p.add_argument("--datapath", required=True, help="folder to extract into (created if missing)")
    p.add_argument("--sha256", default="", help="expected SHA-256 of the archive; the run fails on a mismatch")
    p.add_argument("--retries", type=int, default=5, help="attempts for transient download errors (default: 5)")
    p.add_argument("--backoff", type=float, default=1.0, help="first retry delay in seconds, doubled each time (default: 1)")
    p.add_argument("--timeout", type=float, default=60.0, help="socket timeout in seconds (default: 60)")
    return p.parse_args(argv)


def download(url: str, dest: Path, retries: int, backoff: float, timeout: float) -> tuple[str, int]:
    """Stream `url` into `dest`; returns (sha256 hex, bytes). Retries transient errors."""
    attempt = 0
    while True:
        attempt += 1
        try:
            digest = hashlib.sha256()
            size = 0
            with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            return digest.hexdigest(), size
        except urllib.error.HTTPError as e:
            if e.code not in TRANSIENT_HTTP:
                raise IngestError(f"download failed: {url} answered HTTP {e.code} {e.reason}") from e
            reason = f"HTTP {e.code}"
        except urllib.error.URLError as e:
            if isinstance(e.reason, (FileNotFoundError, PermissionError, IsADirectoryError)):
                raise IngestError(f"cannot read {url}: {e.reason}") from e
            reason = str(e.reason)
        except (TimeoutError, ConnectionError) as e:
            reason = str(e) or type(e).__name__
        except ValueError as e:
            raise IngestError(f"not a usable URL: {url} ({e})") from e
        if attempt >= retries:
            raise IngestError(f"download failed after {attempt} attempts: {url}: {reason}")
        delay = backoff * 2 ** (attempt - 1)
        log(f"attempt {attempt} failed ({reason}); retrying in {delay:g}s")
        time.sleep(delay)


def _inside(root: Path, target: Path) -> bool:
    root = root.resolve()
    try:
        target.resolve().relative_to(root)
        return True
    except ValueError:
        return False


def _check_member_path(root: Path, name: str) -> Path:
    if not name or name.startswith("/") or name.startswith("\\") or (len(name) > 1 and name[1] == ":"):
        raise IngestError(f"archive entry {name!r} has an absolute path; refusing to extract")
    target = root / name
    if ".." in Path(name).parts or not _inside(root, target):
        raise IngestError(f"archive entry {name!r} points outside {root}; refusing to extract")
    return target


def extract(archive: Path, root: Path) -> int:
    """Extract into `root` after checking every entry; nothing is written if any entry is unsafe."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for m in members:
                _check_member_path(root, m.filename)
                if stat.S_ISLNK(m.external_attr >> 16):
                    raise IngestError(f"archive entry {m.filename!r} is a symlink; refusing to extract")
            for m in members:
                zf.extract(m, root)
            return sum(1 for m in members if not m.is_dir())
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for m in members:
                target = _check_member_path(root, m.name)
                if m.issym() or m.islnk():
                    link = m.linkname
                    base = target.parent if m.issym() else root
                    if link.startswith("/") or not _inside(root, base / link):
                        raise IngestError(f"archive entry {m.name!r} links to {link!r}, outside {root}; refusing to extract")
                elif not (m.isfile() or m.isdir()):
                    raise IngestError(f"archive entry {m.name!r} is a device or FIFO; refusing to extract")
            for m in members:
                # Entries were checked above; ownership and odd mode bits from the archive are not kept.
                m.uid = m.gid = 0
                m.uname = m.gname = ""
                m.mode = (m.mode & 0o755) | (0o700 if m.isdir() else 0o600)
                tf.extract(m, root, set_attrs=not m.issym(), **TRUSTED)
            return sum(1 for m in members if m.isfile())
    raise IngestError(f"{archive.name} is neither a zip nor a tar archive")


def ingest(url: str, datapath: Path, sha256: str = "", retries: int = 5, backoff: float = 1.0, timeout: float = 60.0) -> dict:
    datapath.mkdir(parents=True, exist_ok=True)
    marker = datapath / MARKER
    expected = sha256.lower().strip()
    if marker.exists():
        try:
            done = json.loads(marker.read_text())
        except (OSError, ValueError):
            done = {}
        if done.get("url") == url and (not expected or done.get("sha256") == expected):
            log(f"already ingested {url} into {datapath} ({done.get('files')} files); nothing to do")
            return {**done, "skipped": True}

    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=datapath)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        log(f"downloading {url}")
        actual, size = download(url, tmp, retries, backoff, timeout)
        log(f"downloaded {size} bytes, sha256 {actual}")
        if expected and actual != expected:
            raise IngestError(f"checksum mismatch for {url}: expected {expected}, got {actual}")
        files = extract(tmp, datapath)
        log(f"extracted {files} files into {datapath}")
    finally:
        tmp.unlink(missing_ok=True)
    record = {"url": url, "sha256": actual, "bytes": size, "files": files}
    marker_tmp = marker.with_suffix(".tmp")
    marker_tmp.write_text(json.dumps(record, indent=2) + "\n")
    marker_tmp.replace(marker)
    return {**record, "skipped": False}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        ingest(args.dataurl, Path(args.datapath), args.sha256, args.retries, args.backoff, args.timeout)
    except IngestError as e:
        print(f"ingest: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
