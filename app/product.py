"""Names the product shows on GitHub, defined once: the check run's name and the command prefix."""

from __future__ import annotations

CHECK_RUN_NAME = "mini-review"
COMMAND_PREFIX = "/mini"
