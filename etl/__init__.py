"""CORD-19 ETL: read the published formats, normalise, link, emit triples, load the store."""
