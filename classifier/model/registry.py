"""The model registry: versioned model folders with a checked manifest, and an atomic ACTIVE pointer.

A version folder holds ``tagger.joblib``, ``report.json`` and ``manifest.json``. The manifest records the
format version, library versions, embedding model and dimension, training-data sha256, metrics, thresholds
and the sha256 of every other file; ``load`` checks all of it before unpickling anything. ``activations.jsonl``
records every activation, so that a rollback can return to the version that was active before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import joblib

from classifier.errors import ModelError, NotFound

# 2: the saved object is a classifier.model.features.ThemeModel (tagger plus TF-IDF vocabulary).
# 3: a ThemeModel may also hold a character n-gram vocabulary. Format 2 models still load (the new fields
#    default to "absent"), so rolling back to one keeps working; older code refuses format 3.
FORMAT_VERSION = 3
READABLE_FORMATS = (2, 3)
VERSION_RE = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$")
MANIFEST, TAGGER_FILE, REPORT_FILE, ACTIVE = "manifest.json", "tagger.joblib", "report.json", "ACTIVE"
# One line per activation, oldest first, so a rollback can return to the version that was active before.
ACTIVATIONS = "activations.jsonl"
# Libraries whose version decides whether a pickled tagger can be trusted to behave the same.
_CHECKED = ("scikit-learn", "numpy")


def library_versions() -> dict:
    out = {"python": f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"}
    for name in ("joinedup", "scikit-learn", "numpy", "joblib", "sentence-transformers", "torch"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _minor(version: str | None) -> tuple:
    return tuple((version or "").split(".")[:2])


@dataclass(frozen=True)
class ModelInfo:
    version: str
    created: str
    metrics: dict
    active: bool

    def to_dict(self) -> dict:
        return {"version": self.version, "created": self.created, "metrics": self.metrics, "active": self.active}


@dataclass
class LoadedModel:
    """A verified model: the fitted ThemeModel plus its manifest. ``themes`` is the tagger's column order."""

    version: str
    theme_model: object  # a fitted classifier.model.features.ThemeModel
    manifest: dict

    @property
    def themes(self) -> list[str]:
        return list(self.manifest["themes"])

    @property
    def thresholds(self) -> dict:
        return dict(self.manifest["thresholds"])


def new_version(data_sha256: str, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    salt = hashlib.sha256(f"{data_sha256}{now.isoformat()}{os.getpid()}".encode()).hexdigest()[:8]
    return f"{now:%Y%m%d-%H%M%S}-{salt}"


class Registry:
    """Model versions under one directory. Versions are only ever looked up by name, never by a given path."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _dir(self, version: str) -> Path:
        if not isinstance(version, str) or not VERSION_RE.match(version):
            raise NotFound(f"no model version {version!r}")
        return self.root / version

    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and VERSION_RE.match(p.name) and (p / MANIFEST).exists())

    def active_version(self) -> str | None:
        try:
            version = (self.root / ACTIVE).read_text().strip()
        except FileNotFoundError:
            return None
        return version if VERSION_RE.match(version) and (self.root / version / MANIFEST).exists() else None

    def list(self) -> list[ModelInfo]:
        active = self.active_version()
        out = []
        for v in self.versions():
            try:
                m = json.loads((self.root / v / MANIFEST).read_text())
            except (OSError, json.JSONDecodeError):
                continue
            out.append(ModelInfo(v, m.get("created", ""), m.get("metrics", {}), v == active))
        return out

    def save(self, theme_model, manifest: dict, report: dict) -> str:
        """Write a new version folder atomically (temporary folder, fsync, rename); return its version."""
        self.root.mkdir(parents=True, exist_ok=True)
        version = manifest["version"]
        if not VERSION_RE.match(version):
            raise ModelError(f"bad version name {version!r}")
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=self.root))
        try:
            joblib.dump(theme_model, tmp / TAGGER_FILE)
            (tmp / REPORT_FILE).write_text(json.dumps(report, indent=2))
            manifest = dict(manifest, format_version=FORMAT_VERSION, libraries=library_versions(),
                            files={name: _sha256(tmp / name) for name in (TAGGER_FILE, REPORT_FILE)})
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
            for name in (TAGGER_FILE, REPORT_FILE, MANIFEST):
                with open(tmp / name, "rb") as fh:
                    os.fsync(fh.fileno())
            _fsync_dir(tmp)
            os.rename(tmp, self.root / version)
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return version

    def activate(self, version: str) -> None:
        """Point ACTIVE at ``version`` after verifying it; the switch is one ``os.replace``."""
        self.verify(version)
        tmp = self.root / f".{ACTIVE}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(version + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / ACTIVE)
        _fsync_dir(self.root)
        line = json.dumps({"version": version, "at": utc_now()}).encode() + b"\n"
        with open(self.root / ACTIVATIONS, "a+b") as fh:
            if fh.seek(0, os.SEEK_END) > 0:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":  # a crash cut the last line short: start a new one
                    line = b"\n" + line
            fh.write(line)  # one short write in append mode: whole lines even from several workers
            fh.flush()
            os.fsync(fh.fileno())

    def activations(self) -> list[dict]:
        """Every recorded activation, oldest first, as ``{"version", "at"}`` (none before the record began)."""
        try:
            lines = (self.root / ACTIVATIONS).read_text().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a crash is skipped, not fatal
                continue
            version = entry.get("version") if isinstance(entry, dict) else None
            if isinstance(version, str) and VERSION_RE.match(version):
                out.append(entry)
        return out

    def report(self, version: str) -> dict:
        """The evaluation report saved with ``version`` (``{}`` when it has none)."""
        if version not in self.versions():  # looked up among the registry's own folders, never a given path
            raise NotFound(f"no model version {version!r}")
        try:
            return json.loads((self._dir(version) / REPORT_FILE).read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    def manifest(self, version: str) -> dict:
        path = self._dir(version) / MANIFEST
        try:
            return json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise NotFound(f"no model version {version!r}") from exc
        except json.JSONDecodeError as exc:
            raise ModelError(f"model {version}: manifest.json is not valid JSON") from exc

    def verify(self, version: str, embedder_name: str | None = None, dimension: int | None = None) -> dict:
        """Check a version's manifest, file hashes, library versions and (optionally) embedding space."""
        folder = self._dir(version)
        manifest = self.manifest(version)
        if manifest.get("format_version") not in READABLE_FORMATS:
            raise ModelError(f"model {version}: format version {manifest.get('format_version')!r} is not one "
                             f"this release reads {READABLE_FORMATS}; retrain it with this release")
        files = manifest.get("files") or {}
        if TAGGER_FILE not in files:
            raise ModelError(f"model {version}: manifest lists no {TAGGER_FILE}")
        for name, expected in files.items():
            path = folder / name
            if Path(name).name != name or not path.is_file():
                raise ModelError(f"model {version}: file {name} listed in the manifest is missing")
            if _sha256(path) != expected:
                raise ModelError(f"model {version}: {name} does not match its sha256 in the manifest")
        saved, here = manifest.get("libraries", {}), library_versions()
        for lib in _CHECKED:
            if _minor(saved.get(lib)) != _minor(here.get(lib)):
                raise ModelError(f"model {version} was saved with {lib} {saved.get(lib)}, this install has "
                                 f"{here.get(lib)}; retrain it (joinedup train)")
        emb = manifest.get("embedding", {})
        if embedder_name is not None and emb.get("name") != embedder_name:
            raise ModelError(f"model {version} was trained on embeddings from {emb.get('name')!r}, but the "
                             f"configured embedder is {embedder_name!r}; retrain or change the embedder")
        if dimension is not None and emb.get("dimension") != dimension:
            raise ModelError(f"model {version} expects {emb.get('dimension')}-dimensional embeddings, "
                             f"the embedder gives {dimension}")
        return manifest

    def load(self, version: str | None = None, embedder_name: str | None = None,
             dimension: int | None = None) -> LoadedModel:
        """Verify and load a version (the active one by default)."""
        if version is None:
            version = self.active_version()
        if version is None:
            raise ModelError(f"no active model in {self.root}; train one with 'joinedup train'")
        manifest = self.verify(version, embedder_name, dimension)
        return LoadedModel(version, joblib.load(self._dir(version) / TAGGER_FILE), manifest)

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` versions, never the active one; return what was removed."""
        active = self.active_version()
        old = [v for v in self.versions() if v != active]
        doomed = old[:max(0, len(old) - keep)]
        for v in doomed:
            shutil.rmtree(self.root / v)
        return doomed


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
