"""The Data Docs site's page views: Great Expectations' own, with their Jinja templates compiled
once per user rather than once per view in every validation.

Great Expectations renders the site with three views (the expectation suites, the validation
results and the index), each with its own Jinja environment, so every validation compiled the
same 17 templates three times: about 0.15 s of a night's run. These views share Jinja's
file-system bytecode cache (in the user's temporary folder, which Jinja creates private to the
user and checks before use; an entry is keyed by the template's name and source, so a new Great
Expectations version compiles its templates again). The site's pages are the same.

Great Expectations imports this module by name when it builds the site (the `view` settings in
pipeline.validate._gx_context); nothing else imports it."""

from __future__ import annotations

from functools import cache
from typing import Any

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import BytecodeCache, FileSystemBytecodeCache


@cache
def _bytecode_cache() -> BytecodeCache:
    return FileSystemBytecodeCache()


class _SharedTemplates:
    """A Jinja view whose environment uses the shared bytecode cache."""

    env: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = _bytecode_cache()


class PageView(_SharedTemplates, DefaultJinjaPageView):
    """A suite's or a validation result's page."""


class IndexPageView(_SharedTemplates, DefaultJinjaIndexPageView):
    """The site's index page."""
