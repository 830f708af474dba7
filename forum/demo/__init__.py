"""Demo content of our own, for trying the forum and for mining.

``generate()`` builds it in memory (fixed seeds, fixed dates); ``seed_demo()`` inserts what is missing.
``PLANTED_PROBLEMS`` is the ground truth: which recurring problems were planted and how their threads are named.
"""
from .people import DEMO_LOGINS, DEMO_PASSWORD
from .problems import PLANTED_PROBLEMS, problem_key_for

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "PLANTED_PROBLEMS", "problem_key_for"]
