"""The test suite hashes passwords with a cheap argon2id; production keeps the library's cost and refuses the
cheap one."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from argon2 import PasswordHasher

from marche.accounts import passwords
from marche.config import Config, ConfigError

PRODUCTION = {"MARCHE_ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://db/marche",
              "MEILI_URL": "http://search:7700", "MEILI_MASTER_KEY": "k" * 32}


def test_the_suite_runs_argon2id_at_the_test_cost():
    assert os.environ["MARCHE_PASSWORD_HASH_COST"] == "test" and passwords.COST == "test"
    hashed = passwords.hash_password("motdepasse-solide-1")
    assert hashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert passwords.verify_password(hashed, "motdepasse-solide-1")
    assert not passwords.verify_password(hashed, "motdepasse-solide-2")


def test_without_the_variable_the_library_cost_applies():
    environ = {k: v for k, v in os.environ.items() if k != "MARCHE_PASSWORD_HASH_COST"}
    printed = subprocess.run([sys.executable, "-c", "from marche.accounts import passwords; "
                              "print(passwords.COST, passwords.hash_password('x')[:40])"],
                             capture_output=True, text=True, check=True, env=environ).stdout.split()
    library = PasswordHasher()
    assert printed[0] == "default"
    assert printed[1].startswith(f"$argon2id$v=19$m={library.memory_cost},t={library.time_cost},"
                                 f"p={library.parallelism}$")


def test_production_refuses_the_test_cost(tmp_path):
    Config.from_env(tmp_path, environ=PRODUCTION)
    with pytest.raises(ConfigError, match="MARCHE_PASSWORD_HASH_COST"):
        Config.from_env(tmp_path, environ={**PRODUCTION, "MARCHE_PASSWORD_HASH_COST": "test"})


def test_an_unknown_cost_stops_the_import():
    result = subprocess.run([sys.executable, "-c", "import marche.accounts.passwords"], capture_output=True,
                            text=True, env={**os.environ, "MARCHE_PASSWORD_HASH_COST": "rapide"})
    assert result.returncode != 0 and "MARCHE_PASSWORD_HASH_COST" in result.stderr
