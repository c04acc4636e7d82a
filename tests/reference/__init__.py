"""The independent reference implementation of the event study and its group tests (long polars frames, p-values
from scipy): the oracle tests/test_dense_study.py and the statistical tests compare the production engine
(transforms.event_study) against. Test code only: nothing under flows/, transforms/ or warehouse/ imports it
(tests/test_reference_isolation.py checks)."""
