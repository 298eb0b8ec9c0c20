"""The service's jobs: the SQLite store and the process-pool runner."""
