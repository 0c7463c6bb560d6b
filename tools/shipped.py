"""What every build tool does with the file it makes: compare it with the one the package
ships, then write it, or with ``--check`` only say whether it is stale (exit 1)."""

from __future__ import annotations

from pathlib import Path


def write_or_check(repo: Path, target: str, text: str, check: bool, size: bool = False) -> int:
    """Write ``text`` to ``repo/target`` if it differs (or, with ``check``, only say so); the
    exit status: 1 for a stale file under ``check``, else 0."""
    path = repo / target
    same = path.is_file() and path.read_text("utf-8") == text
    if check:
        print(f"{target}: {'unchanged' if same else 'stale'}")
        return 0 if same else 1
    if not same:
        path.write_text(text, "utf-8")
    told = f" ({len(text) // 1024} KiB)" if size else ""
    print(f"{target}: {'unchanged' if same else 'written'}{told}")
    return 0
