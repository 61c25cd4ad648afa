"""A content-addressed blob store on disk: frames, segment MP4s, trajectories and state lines.

A blob is named by the sha256 of its bytes, so identical frames are stored once and a reference
(``"<sha256>.<ext>"``) says exactly what it points to. Graph state holds references, never pixels.
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


class BlobStore:
    """Blobs under ``root/ab/<sha256>.<ext>``; writes are atomic (temp file, then rename)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, ref: str) -> Path:
        if not isinstance(ref, str) or not REF_PATTERN.match(ref):
            raise StoreError(f"blob reference {ref!r} is malformed; expected '<64 hex digits>.<ext>'")
        return self.root / ref[:2] / ref

    def put(self, data: bytes, ext: str) -> str:
        ref = f"{hashlib.sha256(data).hexdigest()}.{ext}"
        target = self.path(ref)
        if target.exists():
            return ref
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return ref

    def get(self, ref: str) -> bytes:
        path = self.path(ref)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"blob {ref} is missing from the store at {self.root}; it was deleted or "
                             f"the session was moved without its store folder") from None
        if hashlib.sha256(data).hexdigest() != ref.split(".", 1)[0]:
            raise StoreError(f"blob {ref} at {path} is damaged (its sha256 no longer matches its name)")
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
