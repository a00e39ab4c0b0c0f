<%doc>
    env.py for a project that alembic init made: Alembic's generic env.py, wired up for
    alembic-seeds by seeds init. Rendered with metadata_module, metadata_name and
    metadata_expression (from [seeds] metadata = module:name).
</%doc>\
from logging.config import fileConfig

from sqlalchemy import engine_from_config
from sqlalchemy import pool

from alembic import context

import alembic_seeds
from ${metadata_module} import ${metadata_name}

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging (unless whoever runs Alembic from code has
# set up logging already and says so: config.attributes["configure_logger"] = False).
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

# The MetaData of the models: autogenerate compares the database with it, and data
# revisions write the tables it describes.
target_metadata = ${metadata_expression}

# alembic-seeds: the database (DATABASE_URL, else sqlalchemy.url), each revision in its own
# transaction, the migration lock and timeouts, failures as one FAILED line, and a check
# that the database really is where the run says it is.
seeds = alembic_seeds.SeedsEnvironment(target_metadata)


def run_migrations_offline() -> None:
    """Run migrations in 'offline' mode (--sql): the SQL goes to stdout.

    No database is connected to; its URL only tells which SQL dialect to write.
    """
    context.configure(
        url=seeds.url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **seeds.configure_options(),
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations in 'online' mode, on a connection to the database."""
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
        url=seeds.url,
    )

    with seeds.connect(connectable) as connection:
        context.configure(connection=connection, **seeds.configure_options())

        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
