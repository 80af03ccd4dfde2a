"""The device the engine tests run on: CPU by default (CI); `KEIKO_TEST_DEVICE=cuda` runs the same
suite on a GPU."""

import os

DEVICE = os.environ.get("KEIKO_TEST_DEVICE", "cpu")
