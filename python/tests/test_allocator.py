"""The allocator setting `import dicekit` makes: freed pages kept for 10 s, unless the user chose."""
import os
import subprocess
import sys

CODE = "import os, dicekit; print(os.environ['MIMALLOC_PURGE_DELAY'])"


def _delay(env_value):
    env = dict(os.environ)
    env.pop("MIMALLOC_PURGE_DELAY", None)
    if env_value is not None:
        env["MIMALLOC_PURGE_DELAY"] = env_value
    out = subprocess.run([sys.executable, "-c", CODE], env=env, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def test_import_keeps_freed_pages_for_ten_seconds():
    assert _delay(None) == "10000"


def test_a_value_the_user_set_wins():
    assert _delay("0") == "0"
