"""``seeds init``: set up alembic-seeds in an existing Alembic project.

What ``alembic init`` made, or a project with schema revisions and an ``env.py`` of its own,
gets what data revisions need, each step only when it is missing (so a second run changes
nothing):

- ``alembic.ini``: the ``[seeds]`` section (seed data folder, data revisions folder, branch
  label, the metadata), that folder among ``version_locations``, and the ``alembic_seeds``
  logger (the per-table report of each data revision);
- the schema revision that creates the log of applied data revisions, on top of the schema
  head;
- ``env.py``: Alembic's generic one is wired up here; one the project changed is left alone,
  and the lines to add are printed instead.

Every file is worked out before the first is written: an error writes nothing.
"""

from __future__ import annotations

import datetime
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import alembic
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError, rev_id

from alembic_seeds.errors import ConfigError
from alembic_seeds.migration.config import SECTION, import_target
from alembic_seeds.migration.inifile import IniText
from alembic_seeds.migration.scaffold import render_template, wired_env

#: What ``[seeds]`` gets unless said otherwise (``%(here)s``: the folder of alembic.ini).
DEFAULT_SEEDDATA = "%(here)s/seeddata"
DEFAULT_VERSIONS = "%(here)s/data_migrations/versions"
DEFAULT_BRANCH = "seeds"
#: What the branch's first data revision depends on, resolved when that revision is written
#: (not now): the schema head by then, so that the schema revisions creating the models'
#: tables, which usually come after seeds init, run before it.
DEFAULT_DEPENDS_ON = "heads"
LOGGER = "alembic_seeds"
LOG_REVISION_MESSAGE = "Log of applied data revisions"
#: What every schema revision that creates the log table calls.
LOG_TABLE_CALL = "create_log_table("
#: How ``path_separator`` values split a list of paths (as Alembic reads them).
SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}


@dataclass
class InitReport:
    """What ``seeds init`` did (``done``), and what is left for people (``todo``)."""

    done: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class InitOptions:
    metadata: str | None = None
    seeddata: str = DEFAULT_SEEDDATA
    versions: str = DEFAULT_VERSIONS
    branch: str = DEFAULT_BRANCH


def initialize(config_path: Path, options: InitOptions) -> InitReport:
    if not config_path.is_file():
        raise ConfigError(f"{config_path}: no such file (run alembic init first, or use -c)")
    config = Config(str(config_path))
    main = config.config_ini_section
    if not config.get_main_option("script_location"):
        raise ConfigError(
            f"{config_path}: [{main}] has no script_location (seeds init works on the "
            "alembic.ini that alembic init writes)"
        )
    try:
        scripts = ScriptDirectory.from_config(config)
    except CommandError as error:
        raise ConfigError(f"{config_path}: {error}") from None
    here = config_path.resolve().parent
    ini = IniText(config_path.read_text(encoding="utf-8"))
    report = InitReport()
    writes: dict[Path, str] = {}

    section = _seeds_section(config, options)
    report.todo += section.kept
    versions = _resolve(section.versions, here)
    _add_version_location(ini, config, scripts, (section.versions, versions), report)
    _log_revision(scripts, versions, writes, report)
    if not ini.section(SECTION):
        ini.add_section(render_template("seeds_section.ini.mako", **section.render()))
        report.done.append(
            f"{config_path.name}: added [{SECTION}] (metadata = {section.metadata}, "
            f"branch {section.branch}; its first data revision will depend on the schema "
            "head of the time it is written)"
        )
    else:
        for key, value in section.missing().items():
            ini.set_option(SECTION, key, value)
            report.done.append(f"{config_path.name}: [{SECTION}] {key} = {value}")
    _add_logger(ini, config_path, report)
    if ini.text != config_path.read_text(encoding="utf-8"):
        writes[config_path] = ini.text
    _wire_env(Path(scripts.dir) / "env.py", section.metadata, writes, report)

    for folder in (_resolve(section.seeddata, here), versions):
        if not folder.is_dir():
            report.done.append(f"created {_shown(folder, here)}/")
    for path, text in writes.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in (_resolve(section.seeddata, here), versions):
        folder.mkdir(parents=True, exist_ok=True)
    return report


# ---------------------------------------------------------------------------------------
# [seeds]


@dataclass(frozen=True)
class SeedsSection:
    """The values of ``[seeds]``: those already there win over the options of the command."""

    seeddata: str
    versions: str
    branch: str
    metadata: str
    existing: frozenset[str]
    #: Options of the command that the section already answers otherwise, for people.
    kept: tuple[str, ...] = ()

    def render(self) -> dict[str, str]:
        return {
            "seeddata": self.seeddata,
            "versions": self.versions,
            "branch": self.branch,
            "metadata": self.metadata,
            "depends_on": DEFAULT_DEPENDS_ON,
        }

    def missing(self) -> dict[str, str]:
        """The options an existing ``[seeds]`` lacks."""
        return {k: v for k, v in self.render().items() if k not in self.existing}


def _seeds_section(config: Config, options: InitOptions) -> SeedsSection:
    parser = config.file_config
    existing: dict[str, str] = {}
    if parser.has_section(SECTION):
        existing = {key: parser.get(SECTION, key, raw=True) for key in parser.options(SECTION)}
        existing = {k: v for k, v in existing.items() if k not in parser.defaults()}
    metadata = existing.get("metadata") or options.metadata
    if not metadata:
        raise ConfigError(
            "seeds init needs the MetaData of your models (what env.py gives target_metadata): "
            "seeds init --metadata package.module:attribute (myapp.models:Base.metadata, say)"
        )
    _check_metadata(config, metadata)
    asked = {
        "metadata": (options.metadata, None),
        "seeddata": (options.seeddata, DEFAULT_SEEDDATA),
        "versions": (options.versions, DEFAULT_VERSIONS),
        "branch": (options.branch, DEFAULT_BRANCH),
    }
    kept = tuple(
        f"[{SECTION}] already has {key} = {existing[key]}: kept (not {value}); edit "
        f"{config.config_file_name} to change it"
        for key, (value, default) in asked.items()
        if value is not None and value != default and existing.get(key) not in (None, value)
    )
    return SeedsSection(
        seeddata=existing.get("seeddata") or options.seeddata,
        versions=existing.get("versions") or options.versions,
        branch=existing.get("branch") or options.branch,
        metadata=metadata,
        existing=frozenset(existing),
        kept=kept,
    )


def _check_metadata(config: Config, target: str) -> None:
    """``target`` must name a MetaData, importable as Alembic will import it."""
    for entry in reversed(config.get_prepend_sys_paths_list() or []):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    found = import_target(target, config)
    if not isinstance(found, sa.MetaData):
        raise ConfigError(f"--metadata {target}: that is a {type(found).__name__}, not a MetaData")


# ---------------------------------------------------------------------------------------
# version_locations


def _add_version_location(
    ini: IniText,
    config: Config,
    scripts: ScriptDirectory,
    folder: tuple[str, Path],
    report: InitReport,
) -> None:
    """Add the data revisions' folder (as written, and resolved) to version_locations."""
    raw, versions = folder
    main = config.config_ini_section
    locations = config.get_version_locations_list()
    if locations and any(Path(location).resolve() == versions for location in locations):
        return
    separator_option, separator = _separator(config)
    if locations:
        entries = [ini_value(config, "version_locations")]
    else:
        # Once version_locations is set, script_location/versions is no longer implied.
        entries = [_default_versions_entry(config, scripts)]
    if separator_option is None and any(re.search(r"[ ,]", entry) for entry in (raw, *entries)):
        raise ConfigError(
            f"{config.config_file_name}: a path in version_locations holds a space or a comma, "
            f"which [{main}] splits on: add path_separator = os there first"
        )
    entries.append(raw)
    if separator == "\n":
        value = "".join(f"\n    {entry.strip()}" for entry in entries)
    else:
        value = separator.join(entries)
    ini.set_option(main, "version_locations", value)
    report.done.append(
        f"{Path(str(config.config_file_name)).name}: version_locations now includes {raw} "
        "(the data revisions)"
    )


def ini_value(config: Config, key: str) -> str:
    """The raw text of an option of the main section (``%(here)s`` as written)."""
    return config.file_config.get(config.config_ini_section, key, raw=True)


def _separator(config: Config) -> tuple[str | None, str]:
    """The option that says how paths are split (None: Alembic's legacy spaces and commas),
    and the separator to join new ones with."""
    for option in ("path_separator", "version_path_separator"):
        value = config.get_main_option(option)
        if value is not None:
            if value not in SEPARATORS:
                raise ConfigError(f"{config.config_file_name}: {option} = {value}: unknown")
            return option, SEPARATORS[value]
    return None, " "


def _default_versions_entry(config: Config, scripts: ScriptDirectory) -> str:
    script_location = ini_value(config, "script_location")
    if os.path.isdir(config.get_main_option("script_location") or ""):
        return f"{script_location.rstrip('/')}/versions"
    # A package resource (package:folder): name the folder it resolves to.
    return str(Path(scripts.dir) / "versions")


# ---------------------------------------------------------------------------------------
# The log table's schema revision


def _log_revision(
    scripts: ScriptDirectory, versions: Path, writes: dict[Path, str], report: InitReport
) -> None:
    """The schema revision that creates the log table, unless the project has one."""
    for script in scripts.walk_revisions():
        if script.path and LOG_TABLE_CALL in Path(script.path).read_text(encoding="utf-8"):
            return
    schema_heads = [
        script
        for script in scripts.get_revisions("heads")
        if script is not None and Path(script.path).resolve().parent != versions
    ]
    if len(schema_heads) > 1:
        names = ", ".join(sorted(script.revision for script in schema_heads))
        raise ConfigError(
            f"the schema has several heads ({names}): merge them first (alembic merge heads), "
            "so that the log table's revision has one to build on"
        )
    head = schema_heads[0] if schema_heads else None
    folder = Path(head.path).parent if head is not None else _schema_folder(scripts, versions)
    revision = rev_id()
    created = datetime.datetime.now(datetime.UTC)
    path = Path(scripts._rev_path(str(folder), revision, LOG_REVISION_MESSAGE, created))
    writes[path] = render_template(
        "log_table_revision.py.mako",
        message=LOG_REVISION_MESSAGE,
        revision=revision,
        down_revision=head.revision if head is not None else None,
        create_date=created.strftime("%Y-%m-%d %H:%M:%S UTC"),
    )
    on_top = f"on top of {head.revision}" if head is not None else "the first revision"
    report.done.append(f"{path.name}: the schema revision that creates the log table ({on_top})")


def _schema_folder(scripts: ScriptDirectory, versions: Path) -> Path:
    """Where schema revisions go in a project that has none yet."""
    locations = [Path(p).resolve() for p in scripts.version_locations]
    others = [location for location in locations if location != versions]
    return others[0] if others else Path(scripts.dir) / "versions"


# ---------------------------------------------------------------------------------------
# Logging


def _add_logger(ini: IniText, config_path: Path, report: InitReport) -> None:
    keys = ini.option("loggers", "keys")
    if keys is None:
        report.todo.append(
            f"{config_path.name} has no [loggers] keys: data revisions report per table to the "
            f"logger {LOGGER} (at INFO)"
        )
        return
    text = " ".join(ini.lines[keys.start : keys.end]).split("=", 1)[1]
    names = [name.strip() for name in text.split(",") if name.strip()]
    if LOGGER not in names:
        ini.set_option("loggers", "keys", ",".join([*names, LOGGER]))
    if ini.section(f"logger_{LOGGER}") is None:
        ini.add_section(render_template("logger_section.ini.mako"), after="logger_")
    if LOGGER not in names:
        report.done.append(
            f"{config_path.name}: the logger {LOGGER} (each data revision's report per table)"
        )


# ---------------------------------------------------------------------------------------
# env.py


def _wire_env(env: Path, metadata: str, writes: dict[Path, str], report: InitReport) -> None:
    if not env.is_file():
        report.todo.append(f"{env}: no such file; write an env.py that uses alembic_seeds")
        return
    text = env.read_text(encoding="utf-8")
    if "alembic_seeds" in text:
        return
    if _normalized(text) == _normalized(_generic_env()):
        writes[env] = wired_env(metadata)
        report.done.append(f"{env.parent.name}/env.py: Alembic's generic env.py, now wired up")
        return
    report.todo.append(env_instructions(env, text))


def _generic_env() -> str:
    template = Path(alembic.__file__).parent / "templates" / "generic" / "env.py"
    return template.read_text(encoding="utf-8")


def _normalized(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


def env_instructions(env: Path, text: str) -> str:
    """The lines to add to an ``env.py`` the project has changed, and where."""
    lines = text.splitlines()

    def where(pattern: str) -> list[int]:
        return [number for number, line in enumerate(lines, 1) if re.search(pattern, line)]

    def quoted(number: int) -> str:
        return f"line {number} (`{lines[number - 1].strip()}`)"

    metadata = where(r"^target_metadata\s*=")
    configure = where(r"context\.configure\(")
    connect = where(r"\.connect\(\)\s+as\s+\w+")
    after = f"after {quoted(metadata[-1])}" if metadata else "once target_metadata is set"
    out = [
        f"{env} is not Alembic's generic env.py, so seeds init leaves it as it is. "
        "Add alembic-seeds to it:",
        f"  {after}:",
        "      import alembic_seeds",
        "      seeds = alembic_seeds.SeedsEnvironment(target_metadata)",
    ]
    at = ", ".join(f"line {n}" for n in configure) or "each context.configure(...)"
    out += [
        f"  in context.configure(...) ({at}): add **seeds.configure_options(), and drop",
        "      target_metadata=... (it is among them, with the log table); offline, url=seeds.url",
    ]
    if connect:
        out.append(f"  in place of {quoted(connect[0])}:")
    else:
        out.append("  where run_migrations_online() connects:")
    out += [
        "      with seeds.connect(connectable) as connection:",
        "  and make that engine with url=seeds.url (DATABASE_URL, else sqlalchemy.url).",
    ]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# Shared


def _resolve(raw: str, here: Path) -> Path:
    """A path as Alembic reads it: ``%(here)s`` replaced; relative to the working folder."""
    return Path(raw.replace("%(here)s", str(here)).replace("%%", "%")).resolve()


def _shown(path: Path, here: Path) -> str:
    try:
        return str(path.relative_to(here))
    except ValueError:
        return str(path)
