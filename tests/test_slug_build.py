"""The lock and the Heroku-style build check (tests/support/slug_build.py, scripts/check-lock,
scripts/lock_fingerprint.py): each failure the build can meet names what is missing.

The whole build (install from the lock, collectstatic, release, web, worker) runs once per CI
run as its own step, ``scripts/build-check``; these are its parts, fast enough for every suite.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.slug_build import (
    BuildError,
    addon_vars,
    config_vars,
    detect,
    executables,
    missing_libraries,
    python_version,
    read_app_json,
    read_procfile,
    run,
)

ROOT = Path(__file__).resolve().parent.parent
APP = read_app_json(ROOT / "app.json")
# uv as scripts/_venv.sh installs it, also when pytest was started without sourcing it
UV_PATH = f"{Path(sys.executable).parent.parent / '.uv' / 'bin'}:{os.environ['PATH']}"


def test_procfile_is_read_as_the_platform_reads_it(tmp_path: Path):
    processes = read_procfile(ROOT / "Procfile")
    assert set(processes) == {"web", "release", "worker"}
    assert processes["web"].startswith("gunicorn smarter.wsgi -c gunicorn.conf.py --bind 0.0.0.0:${PORT")
    (tmp_path / "Procfile").write_text("web: gunicorn app\n\nthis is not a process line\n")
    with pytest.raises(BuildError, match="line 3 is not 'name: command'"):
        read_procfile(tmp_path / "Procfile")
    with pytest.raises(BuildError, match="Procfile is missing"):
        read_procfile(tmp_path / "nothing" / "Procfile")


def test_config_vars_are_app_json_values_secrets_and_the_operators():
    env = config_vars(APP, {"ROOT_DOMAIN": "example.com"})
    declared = APP["env"]
    with_value = {name for name, spec in declared.items() if "value" in spec}
    generated = {"SECRET_KEY", "SSO_ENCRYPTION_KEYS"}
    assert set(env) == with_value | generated | {"ROOT_DOMAIN"}  # optional ones stay unset
    assert env["DEBUG"] == "false" and env["ROOT_DOMAIN"] == "example.com"
    assert len(env["SECRET_KEY"]) >= 50
    assert config_vars(APP, {"ROOT_DOMAIN": "x.org"})["SECRET_KEY"] != env["SECRET_KEY"]


def test_a_required_config_var_without_value_is_named():
    with pytest.raises(BuildError, match=r"requires config var\(s\) with no value: ROOT_DOMAIN"):
        config_vars(APP, {})


def test_a_var_app_json_does_not_declare_is_refused():
    with pytest.raises(BuildError, match="STATIC_ROOT are not declared in app.json"):
        config_vars(APP, {"ROOT_DOMAIN": "example.com", "STATIC_ROOT": "/tmp/s"})


def test_a_missing_config_var_stops_the_step_with_settings_message(tmp_path: Path):
    """An app.json that forgot SECRET_KEY: the buildpack's collectstatic fails, saying so."""
    app = {**APP, "env": {k: v for k, v in APP["env"].items() if k != "SECRET_KEY"}}
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           **config_vars(app, {"ROOT_DOMAIN": "example.com"}),
           **addon_vars(app, {"DATABASE_URL": "postgres://postgres@127.0.0.1:9/x",
                              "REDIS_URL": "redis://127.0.0.1:9/0"})}
    with pytest.raises(BuildError) as failed:
        run("collectstatic at build time",
            f"{sys.executable} manage.py collectstatic --noinput", ROOT, env)
    message = str(failed.value)
    assert message.startswith("collectstatic at build time failed (exit 1): ")
    assert "SECRET_KEY must be set when DEBUG is off" in message.splitlines()[0]


def test_addons_set_their_urls_and_an_unknown_addon_is_named():
    urls = {"DATABASE_URL": "postgres://db", "REDIS_URL": "redis://cache"}
    assert addon_vars(APP, urls) == urls
    plans = {"addons": [{"plan": "heroku-postgresql:essential-0"}]}
    assert addon_vars(plans, urls) == {"DATABASE_URL": "postgres://db"}
    with pytest.raises(BuildError, match="add-on 'papertrail'"):
        addon_vars({"addons": ["papertrail"]}, urls)


def project_copy(tmp_path: Path, *names: str) -> Path:
    for name in names:
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def test_detection_needs_the_lock_and_refuses_a_second_package_manager(tmp_path: Path):
    project = project_copy(tmp_path, "pyproject.toml")
    with pytest.raises(BuildError, match="uv.lock is not in the pushed tree"):
        detect(project, APP)
    project_copy(tmp_path, "uv.lock")
    detect(project, APP)
    (project / "requirements.txt").write_text("django\n")
    with pytest.raises(BuildError, match="requirements.txt beside uv.lock"):
        detect(project, APP)


def test_python_version_must_exist_and_fit_requires_python(tmp_path: Path):
    assert python_version(ROOT) == "3.11"
    project = project_copy(tmp_path, "pyproject.toml")
    with pytest.raises(BuildError, match=".python-version is missing"):
        python_version(project)
    (project / ".python-version").write_text("3.13\n")
    with pytest.raises(BuildError, match="says 3.13, outside requires-python"):
        python_version(project)


def test_a_missing_system_library_is_named(tmp_path: Path):
    """A compiled module whose shared library is absent (here psycopg's libpq, without the
    directory the wheel ships it in) is reported with the library and the module."""
    venv = Path(sys.executable).parent.parent
    assert missing_libraries(venv) == []
    [module] = venv.glob("lib/python*/site-packages/psycopg_binary/_psycopg*.so")
    site = tmp_path / "lib" / "python3.11" / "site-packages" / "psycopg_binary"
    site.mkdir(parents=True)
    shutil.copy2(module, site / module.name)
    missing = missing_libraries(tmp_path)
    assert any(line.startswith("libpq") and f"psycopg_binary/{module.name}" in line
               for line in missing), missing


def test_a_procfile_program_the_slug_lacks_is_named(tmp_path: Path):
    (tmp_path / "gunicorn").write_text("#!/bin/sh\n")
    (tmp_path / "gunicorn").chmod(0o755)
    processes = {"web": "gunicorn app", "worker": "FOO=1 celery worker"}
    assert executables(processes, str(tmp_path)) == [
        "worker runs 'celery', which the slug does not install"
    ]


def check_lock(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "scripts" / "check-lock"), str(project)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": UV_PATH})


def test_the_committed_lock_matches_pyproject():
    result = check_lock(ROOT)
    assert result.returncode == 0, result.stderr
    assert "uv.lock is up to date with pyproject.toml" in result.stdout


@pytest.mark.parametrize("change", [
    ('"whitenoise>=6.7,<7"', '"whitenoise>=6.8,<7"'),  # a bound bumped, locked version still in
    ('"dnspython>=2.6,<3",', '"dnspython>=2.6,<3", "six>=1.16",'),  # a dependency added
    ('"pyotp>=2.9,<3",', ""),  # a dev tool removed
])
def test_a_pyproject_change_without_relocking_fails_with_the_command_to_run(
    tmp_path: Path, change: tuple[str, str]
):
    project = project_copy(tmp_path, "pyproject.toml", "uv.lock", ".python-version")
    text = (project / "pyproject.toml").read_text()
    assert change[0] in text
    (project / "pyproject.toml").write_text(text.replace(change[0], change[1]))
    result = check_lock(project)
    assert result.returncode == 1
    assert "error: uv.lock is out of date with pyproject.toml" in result.stderr
    assert "scripts/lock && git add pyproject.toml uv.lock" in result.stderr


def test_a_missing_lock_is_named(tmp_path: Path):
    result = check_lock(project_copy(tmp_path, "pyproject.toml"))
    assert result.returncode == 1 and "uv.lock is missing" in result.stderr


def load_fingerprint_script():
    spec = importlib.util.spec_from_file_location("lock_fingerprint",
                                                  ROOT / "scripts" / "lock_fingerprint.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fingerprint_of_this_venv_matches_the_lock(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", UV_PATH)
    script = load_fingerprint_script()
    count, digest, problems = script.fingerprint(sys.executable)
    assert problems == []
    pins = script.locked_runtime_pins(ROOT)
    assert count >= 30 and "django" in pins and "pytest" not in pins  # dev tools left out
    assert len(digest) == 16


def test_the_readme_shows_the_fingerprint_line_as_the_script_prints_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """The README's example line is a template (no count or hash that the next lock change
    makes stale) of exactly the line the script prints."""
    monkeypatch.setenv("PATH", UV_PATH)
    script = load_fingerprint_script()
    assert script.main([]) == 0
    printed = capsys.readouterr().out.strip()
    count, digest, _ = script.fingerprint(sys.executable)
    readme = (ROOT / "README.md").read_text()
    (example,) = [line for line in readme.splitlines() if line.startswith("==> runtime packages")]
    assert example.replace("N installed", f"{count} installed").replace(
        "<16 hex digits>", digest) == printed


def test_fingerprint_names_a_package_at_another_version(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", UV_PATH)
    script = load_fingerprint_script()
    real = script.installed(sys.executable)
    monkeypatch.setattr(script, "installed", lambda python: {**real, "django": "5.2"})
    _, _, problems = script.fingerprint(sys.executable)
    locked = script.locked_runtime_pins(ROOT)["django"][0]
    assert problems == [f"django is 5.2, uv.lock pins {locked}"]
    monkeypatch.setattr(script, "installed",
                        lambda python: {k: v for k, v in real.items() if k != "whitenoise"})
    _, _, problems = script.fingerprint(sys.executable)
    assert problems == [f"whitenoise {real['whitenoise']} is locked but not installed"]



def test_exact_fingerprint_names_dev_tools_installed_beside_the_runtime(
    monkeypatch: pytest.MonkeyPatch,
):
    """The build's venv must hold the runtime packages only; this .venv also has the dev extra."""
    monkeypatch.setenv("PATH", UV_PATH)
    script = load_fingerprint_script()
    _, _, problems = script.fingerprint(sys.executable, exact=True)
    assert any(line.startswith("pytest ") and line.endswith("is no runtime dependency")
               for line in problems), problems
    assert not any(line.startswith("django ") for line in problems)
