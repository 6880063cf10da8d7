"""Shared runtime at the bottom of the stack: typed settings, the Redis connection
(embedded or remote), the cleaned-document model and the Redis Streams document queue."""
