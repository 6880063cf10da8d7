"""Near-duplicate and boilerplate removal on plain text (no Scrapy): Vietnamese normalisation,
shingles, fast MinHash, LSH indexes (memory and atomic Redis) and the dedup verdicts."""
