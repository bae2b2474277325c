#!/usr/bin/env python
"""Django's command-line utility for administrative tasks. Every command runs in the
database wall's platform mode (``tenancy.commands``): it is about no one tenant."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter.settings")
    from tenancy.commands import run_command_line

    run_command_line(sys.argv)


if __name__ == "__main__":
    main()
