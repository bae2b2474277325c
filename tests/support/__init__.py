"""Service harnesses, stand-ins and shared helpers the tests import (no tests here)."""
