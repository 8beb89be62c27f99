"""Every prompt the agent sends lives here as a Markdown file with Jinja2 placeholders.

``render("system", task=...)`` fills ``system.md``; a missing variable is an error, so a
prompt never goes out with a hole in it.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from jinja2 import Environment, StrictUndefined, Template

_ENV = Environment(undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False,
                   trim_blocks=True, lstrip_blocks=True)


class PromptNotFound(LookupError):
    """No prompt file of that name."""


@lru_cache(maxsize=64)
def _template(name: str) -> Template:
    try:
        text = resources.files(__package__).joinpath(f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptNotFound(f"no prompt named {name!r} in agent/prompts/") from None
    return _ENV.from_string(text)


def render(name: str, **variables: object) -> str:
    """The prompt ``name`` with ``variables`` filled in, stripped of edge whitespace."""
    return _template(name).render(**variables).strip()
