"""Lay out a local filesystem mirror holding the stand-in as hashicorp/google and google-beta, plus a CLI config.

Terraform finds it through ``TF_CLI_CONFIG_FILE`` (never ~/.terraformrc). The mirror presents the stand-in as
version ``STANDIN_VERSION`` so our roots' ``>= 7.19, < 8`` constraint is met; the schema it serves is 6.50.0
plus overlay.json.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STANDIN_VERSION = "7.99.0"
PLATFORM = "linux_amd64"


def generate_stubs(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{HERE}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            str(HERE / "tfplugin5.proto"),
        ],
        check=True,
    )


def build(root: Path) -> Path:
    """Build the mirror under ``root``; return the CLI config file to pass as TF_CLI_CONFIG_FILE."""
    stubs = root / "stubs"
    generate_stubs(stubs)
    mirror = root / "mirror"
    for name in ("google", "google-beta"):
        target = mirror / "registry.terraform.io" / "hashicorp" / name / STANDIN_VERSION / PLATFORM
        target.mkdir(parents=True, exist_ok=True)
        launcher = target / f"terraform-provider-{name}_v{STANDIN_VERSION}"
        launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "server.py"}" "{stubs}"\n', encoding="utf-8")
        launcher.chmod(0o755)
    config = root / "terraform.rc"
    config.write_text(
        "provider_installation {\n  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n',
        encoding="utf-8",
    )
    return config
