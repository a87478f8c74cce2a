"""`make run`'s `.env` (integration_hub.envfile): written once, then only completed with the
settings added since, never rewritten."""

import environ
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from integration_hub.envfile import envfile_complete, envfile_write, main

OLD_ENV = (
    "# Written by `make run` before the sandbox was an OpenID provider\n"
    "DEBUG=true\n"
    "SECRET_KEY=kept-secret\n"
    "FIELD_ENCRYPTION_KEYS=RM0Aj0BRa0yMqrD-hmU9Ux-YgJKz5yivFAb6qEgBUoI=\n"
)


def settings_read(path, monkeypatch, name: str) -> str:
    """`name` as settings.py reads it from the file at `path`."""
    monkeypatch.setattr(environ.Env, "ENVIRON", {})
    environ.Env.read_env(str(path))
    return environ.Env().str(name, default="", multiline=True)


def test_a_first_run_writes_a_signing_key_that_settings_reads_as_an_rsa_key(tmp_path, monkeypatch):
    path = tmp_path / ".env"

    assert envfile_write(path=path) is True

    key_lines = [line for line in path.read_text().splitlines() if "PRIVATE KEY" in line]
    assert len(key_lines) == 1  # one line, its newlines escaped
    pem = settings_read(path, monkeypatch, "OIDC_RSA_PRIVATE_KEY")
    assert isinstance(load_pem_private_key(pem.encode(), password=None), rsa.RSAPrivateKey)


@pytest.mark.parametrize("old", [OLD_ENV, OLD_ENV.rstrip("\n")], ids=["newline", "no-newline"])
def test_an_existing_env_without_the_key_gets_it_appended_and_nothing_else_changes(
    tmp_path, monkeypatch, capsys, old
):
    path = tmp_path / ".env"
    path.write_text(old)

    main([str(path)])

    text = path.read_text()
    assert text.startswith(old)
    added = text[len(old) :].strip("\n").splitlines()
    assert [line.split("=", 1)[0] for line in added] == ["OIDC_RSA_PRIVATE_KEY"]
    assert settings_read(path, monkeypatch, "SECRET_KEY") == "kept-secret"
    pem = settings_read(path, monkeypatch, "OIDC_RSA_PRIVATE_KEY")
    assert isinstance(load_pem_private_key(pem.encode(), password=None), rsa.RSAPrivateKey)
    assert "added OIDC_RSA_PRIVATE_KEY" in capsys.readouterr().out


def test_an_existing_env_with_the_key_is_left_untouched(tmp_path):
    path = tmp_path / ".env"
    envfile_write(path=path)
    written = path.read_bytes()

    assert envfile_write(path=path) is False
    assert envfile_complete(path=path) == []
    main([str(path)])

    assert path.read_bytes() == written
