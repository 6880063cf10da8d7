"""Fetching and extraction: site registry (YAML), Scrapy spider and pipelines, site-rule and
generic extraction, and the local mirror used by tests and the demo."""
