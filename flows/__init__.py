"""jevons's Prefect flows and their command line. Importing the package keeps expected failures' tracebacks
out of Prefect's run logs (flows.quiet_failures)."""

from flows import quiet_failures

quiet_failures.install()
