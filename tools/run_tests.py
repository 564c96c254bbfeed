"""Run the whole suite; zero collected tests is a failure (pytest exit 5), never a pass."""

from __future__ import annotations

import subprocess
import sys

NO_TESTS_COLLECTED = 5


def main(argv: list[str]) -> int:
    code = subprocess.call([sys.executable, "-m", "pytest", *argv])
    if code == NO_TESTS_COLLECTED:
        print("run_tests: pytest collected no tests; that is a failure here.", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
