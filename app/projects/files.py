"""Where uploaded bytes live: a directory outside the web root by default.

The store is chosen by configuration (UPLOAD_DIR), so several app hosts can share one
mounted volume; keys are random, never derived from user input.
"""

import os
from pathlib import Path

from flask import current_app


class LocalStore:
    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        if not key.isalnum():  # keys are uuid hex; refuse anything else outright
            raise ValueError("bad storage key")
        return self.root / key[:2] / key

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # never a half-written file under the final name

    def path(self, key: str) -> Path:
        return self._path(key)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def file_store() -> LocalStore:
    root = current_app.config.get("UPLOAD_DIR") or Path(current_app.config["INSTANCE_DIR"]) / "uploads"
    return LocalStore(Path(root))
