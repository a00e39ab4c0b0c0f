"""Files alembic-seeds writes into a project, from the templates in ``templates/``."""

from __future__ import annotations

from importlib import resources

from mako.template import Template  # type: ignore[import-untyped]


def render_template(name: str, **values: object) -> str:
    """The template ``templates/<name>``, rendered with ``values``."""
    text = resources.files("alembic_seeds.migration").joinpath(f"templates/{name}")
    rendered: str = Template(text.read_text(encoding="utf-8")).render(**values)
    return rendered


def wired_env(metadata: str) -> str:
    """Alembic's generic env.py with alembic-seeds in it, for ``metadata`` (``module:name``,
    or ``module:name.attribute``)."""
    module, _, expression = metadata.partition(":")
    return render_template(
        "env.py.mako",
        metadata_module=module,
        metadata_name=expression.split(".")[0],
        metadata_expression=expression,
    )
