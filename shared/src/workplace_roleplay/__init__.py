"""workplace-roleplay v2: the package every service installs.

Layers (dependencies point inward, enforced by ruff TID251 and import-linter):
``functions/*`` → ``web`` and ``adapters`` (edges, wired in ``bootstrap``) → domain modules →
``ports``, ``errors``, ``settings`` (bottom).
"""

__version__ = "2.0.0"
