"""The `newsdedup` command line: it sits on top of scheduler, crawler, dedup and docqueue
and only parses arguments, calls them and prints results."""
