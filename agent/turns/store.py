"""Content-addressed blob stores: frames, segment MP4s, trajectories and state lines.

A blob is named by the sha256 of its bytes, so identical frames are stored once and a reference
(``"<sha256>.<ext>"``) says exactly what it points to. Graph state holds references, never pixels.
:class:`Blobs` is the interface (typed put/get over raw bytes, checked on read); :class:`BlobStore`
keeps them in a local directory (the default); a Postgres ``bytea`` table that every process of a
deployment can read is :class:`agent.turns.stores.pgblobs.PostgresBlobs`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from renderer.media import png_bytes, read_png

REF_PATTERN = re.compile(r"^[0-9a-f]{64}\.[a-z0-9]{1,8}$")


class StoreError(ValueError):
    """A reference that is malformed or names a blob that is missing or damaged."""


def check_ref(ref: str) -> str:
    if not isinstance(ref, str) or not REF_PATTERN.match(ref):
        raise StoreError(f"blob reference {ref!r} is malformed; expected '<64 hex digits>.<ext>'")
    return ref


class Blobs:
    """A content-addressed store: ``put`` returns the reference, ``get`` checks the bytes against it."""

    def write(self, ref: str, data: bytes) -> None:
        """Store `data` under `ref` (a no-op when it is there: same name, same bytes)."""
        raise NotImplementedError

    def read(self, ref: str) -> bytes:
        """The bytes stored under `ref`; :class:`StoreError` when missing."""
        raise NotImplementedError

    def where(self, ref: str) -> str:
        """Where `ref` lives, for messages."""
        raise NotImplementedError

    def put(self, data: bytes, ext: str) -> str:
        ref = check_ref(f"{hashlib.sha256(data).hexdigest()}.{ext}")
        self.write(ref, data)
        return ref

    def get(self, ref: str) -> bytes:
        data = self.read(check_ref(ref))
        if hashlib.sha256(data).hexdigest() != ref.split(".", 1)[0]:
            raise StoreError(f"blob {ref} at {self.where(ref)} is damaged (its sha256 no longer matches its name)")
        return data

    def put_png(self, rgb: np.ndarray) -> str:
        return self.put(png_bytes(rgb), "png")

    def get_png(self, ref: str) -> np.ndarray:
        return read_png(self.get(ref))

    def put_json(self, value) -> str:
        return self.put(json.dumps(value, sort_keys=True, separators=(",", ":")).encode(), "json")

    def get_json(self, ref: str):
        return json.loads(self.get(ref))

    def put_array(self, array: np.ndarray) -> str:
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
        return self.put(buf.getvalue(), "npy")

    def get_array(self, ref: str) -> np.ndarray:
        return np.load(io.BytesIO(self.get(ref)), allow_pickle=False)

    def put_text(self, text: str, ext: str = "txt") -> str:
        return self.put(text.encode("utf-8"), ext)

    def get_text(self, ref: str) -> str:
        return self.get(ref).decode("utf-8")


class BlobStore(Blobs):
    """Blobs in a local directory, under ``root/ab/<sha256>.<ext>``; writes are atomic (temp file,
    then rename). Every process on this host (or on a shared filesystem) can read them."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, ref: str) -> Path:
        return self.root / check_ref(ref)[:2] / ref

    def where(self, ref: str) -> str:
        return str(self.path(ref))

    def write(self, ref: str, data: bytes) -> None:
        target = self.path(ref)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, ref: str) -> bytes:
        try:
            return self.path(ref).read_bytes()
        except FileNotFoundError:
            raise StoreError(f"blob {ref} is missing from the store at {self.root}; it was deleted or "
                             f"the session was moved without its store folder") from None
