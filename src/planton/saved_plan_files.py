"""Files kept beside saved plans: a fleet's mark on the plans it makes for itself, and
terraform's ``show -json`` of a plan ``plan --out`` saved.

A fleet's ``apply`` plans every manifest into a private directory of its own, made for that one
command, and applies those plans moments later with the same credentials. It marks the directory
with a random token (``OWN_PLANS_MARKER``) and gives its children the token
(``PLANTON_OWN_PLANS``): a plan in a directory that is private, the user's own, and holds the
same token is one of these, and is not bound to the credentials' account (``own_plan``). Without
the token, or anywhere else, every plan is bound as before: a variable set by accident binds
nothing less.

The kept ``show -json`` (``keep_shown``/``kept_shown``/``forget_shown``) lets ``apply FILE``
judge exactly the bytes that were planned without starting terraform and its provider again: it
is named by the sha256 of the plan file's bytes, private (it holds the variables in clear text,
as the plan does), and only read from a private directory of the user's own; anything else reads
as nothing kept, and the plan is shown again.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from planton.files import write_atomically
from planton.settings import OWN_PLANS_ENV

OWN_PLANS_MARKER = ".planton-own-plans"
# In a workspace: the show -json of the plans plan --out saved from it (a fleet's own plans keep
# theirs beside them, in the fleet's directory, which goes when the command ends).
SHOWN_PLANS_DIR = ".planton-shown-plans"
_KEPT = 8
_SUFFIX = ".show.json"


def mark_own_plans(directory: Path) -> str:
    """Mark ``directory`` (private, made by the fleet) as the fleet's own; the token to give its
    children in ``PLANTON_OWN_PLANS``."""
    token = secrets.token_hex(24)
    write_atomically(directory / OWN_PLANS_MARKER, token, mode=0o600)
    return token


def own_plan(plan: Path, environ: Mapping[str, str]) -> bool:
    """``plan`` lies in a fleet's own plan directory: private (0700), the user's own, no link,
    and holding the token ``PLANTON_OWN_PLANS`` gives."""
    token = environ.get(OWN_PLANS_ENV, "")
    if len(token) < 32:
        return False
    found = _read_private(plan.parent / OWN_PLANS_MARKER, limit=256)
    return found is not None and hmac.compare_digest(found, token)


def keep_shown(directory: Path, digest: str, shown: str) -> None:
    """Keep ``shown`` for the plan whose bytes hash to ``digest``, in ``directory`` (made private
    if missing); only the newest few there are kept. OSError when it cannot be kept."""
    directory.mkdir(mode=0o700, exist_ok=True)
    if not _private_directory(directory):
        raise PermissionError(f"{directory} is not a private directory of this user's own (mode 0700, no link)")
    write_atomically(directory / f"{digest}{_SUFFIX}", shown, mode=0o600)
    kept = sorted(directory.glob(f"*{_SUFFIX}"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in kept[_KEPT:]:
        old.unlink(missing_ok=True)


def kept_shown(directory: Path, digest: str) -> str | None:
    """What ``keep_shown`` kept for ``digest``; None when nothing usable is there (the plan was
    made in another workspace, or what is there is no private file of this user's)."""
    shown = _read_private(directory / f"{digest}{_SUFFIX}")
    try:
        json.loads(shown or "")
    except ValueError:
        return None
    return shown


def forget_shown(directory: Path, digest: str) -> None:
    """A plan applied is never applied again: what was kept of it goes. OSError when it cannot."""
    (directory / f"{digest}{_SUFFIX}").unlink(missing_ok=True)


def _read_private(path: Path, *, limit: int = -1) -> str | None:
    """The text of ``path`` (at most ``limit`` characters), when it and its directory are private
    and the user's own, and neither is a link; else None."""
    if not _private_directory(path.parent):
        return None
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(handle, encoding="utf-8") as private:
            info = os.fstat(private.fileno())
            if info.st_uid != os.geteuid() or info.st_mode & 0o077:
                return None
            return private.read(limit)
    except (OSError, ValueError):
        return None


def _private_directory(directory: Path) -> bool:
    try:
        info = os.lstat(directory)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o077
