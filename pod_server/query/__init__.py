"""SPARQL over exactly the data the caller may read (see README.md here)."""
