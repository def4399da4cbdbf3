"""Static checks as tests: yamllint, ansible-lint (production profile),
ansible-test sanity, and the built collection artifact installing offline."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYVER = "%d.%d" % sys.version_info[:2]


def _run(cmd, **kw):
    # The tools live beside this interpreter (the project's venv), activated or not.
    env = dict(kw.pop("env", os.environ))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, **kw)
    return proc, (proc.stdout + proc.stderr)


def _copy_tree(dest):
    """Copy the checkout (tracked and untracked files, no .git) to dest."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if not src.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def test_yamllint():
    proc, out = _run(["yamllint", "--strict", "."], cwd=ROOT)
    assert proc.returncode == 0, out


@pytest.mark.duration(3)  # minutes in CI: started early, not left for the end of the run
def test_ansible_lint_production_profile():
    proc, out = _run(["ansible-lint", "--profile", "production", "--nocolor"], cwd=ROOT)
    assert proc.returncode == 0, out[-6000:]


@pytest.mark.duration(5)
def test_ansible_test_sanity(tmp_path):
    coll = tmp_path / "ansible_collections" / "vhosting" / "postfix"
    _copy_tree(coll)
    subprocess.run(["git", "init", "-q"], cwd=coll, check=True)
    subprocess.run(["git", "add", "-A"], cwd=coll, check=True)
    cmd = ["ansible-test", "sanity", "--color", "no", "--python", PYVER, "--local"]
    proc, out = _run(cmd, cwd=coll)
    wanted = re.search(r"can be manually downloaded and saved to: (\S+get_pip_\S+\.py)", out)
    if proc.returncode and wanted:
        # No route to ansible-test's download host: use the offline stand-in.
        shutil.copy(ROOT / "tests" / "lint" / "get_pip_offline.py", wanted.group(1))
        proc, out = _run(cmd, cwd=coll)
    assert proc.returncode == 0, out[-8000:]


def test_built_artifact_installs_offline_and_resolves_by_fqcn(tmp_path):
    proc, out = _run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), str(ROOT)])
    assert proc.returncode == 0, out
    (artifact,) = tmp_path.glob("vhosting-postfix-*.tar.gz")
    listing, _out = _run(["tar", "-tzf", str(artifact)])
    names = listing.stdout.split()
    assert "plugins/modules/postconf.py" in names
    assert not [n for n in names if n.startswith(("tests/output", ".ci/", "bench/results", ".ansible/", ".pytest_cache"))], names
    install = tmp_path / "installed"
    # Only the installed artifact is visible, not the checkout's symlink; the
    # dependencies of galaxy.yml come from the collections that the ansible
    # package bundles (as on an operator's machine without Galaxy).
    from ansible_collections.community import general
    bundled = pathlib.Path(list(general.__path__)[0]).resolve().parents[1].parent
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (install, bundled), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    proc, out = _run(["ansible-galaxy", "collection", "install", "--offline", "--force", "-p", str(install), str(artifact)],
                     env=env, cwd=tmp_path)
    assert proc.returncode == 0, out
    assert (install / "ansible_collections" / "vhosting" / "postfix" / "MANIFEST.json").is_file(), out
    manifest = json.loads((install / "ansible_collections" / "vhosting" / "postfix" / "MANIFEST.json").read_text())
    declared = sorted(manifest["collection_info"]["dependencies"])
    # The database collections are optional (requirements.yml), not dependencies.
    assert declared == [], declared
    for plugin in ("vhosting.postfix.postconf", "vhosting.postfix.lookup_table", "vhosting.postfix.lookup",
                   "vhosting.postfix.network_tables", "community.postgresql.postgresql_query"):
        proc, out = _run(["ansible-doc", "-t", "module", plugin], env=env, cwd=tmp_path)
        assert proc.returncode == 0, out
    proc, out = _run(["ansible-doc", "-t", "role", "vhosting.postfix.server"], env=env, cwd=tmp_path)
    assert proc.returncode == 0 and "vhosting_server__mynetworks" in out, out
    proc, out = _run(
        ["ansible-playbook", "--syntax-check", "-i", "localhost,", "vhosting.postfix.site"], env=env, cwd=tmp_path
    )
    assert proc.returncode == 0, out
