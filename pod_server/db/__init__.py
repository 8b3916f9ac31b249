"""Database plumbing the stores share: SQLite's writer thread, transactions and migrations
(``sqlite``), PostgreSQL's pools, error classes and migrations (``postgres``), and the one
PostgreSQL schema every subsystem's migrations make up (``schema``)."""
