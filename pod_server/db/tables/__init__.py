"""The tables of the one PostgreSQL schema the stores share, one module a subsystem:
each lists the migrations of its own tables (see :mod:`pod_server.db.schema`)."""
