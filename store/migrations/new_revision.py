import sys

from alembic import command

from store.db import alembic_config, make_engine

engine = make_engine("sqlite:////tmp/genmig.db")
cfg = alembic_config(engine)
command.revision(cfg, message=sys.argv[1], autogenerate=True, rev_id=sys.argv[2])
