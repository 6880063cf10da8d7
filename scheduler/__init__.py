"""Driving the crawler: crawl tasks in a Redis stream, the APScheduler service, workers
and the manual re-crawl."""
