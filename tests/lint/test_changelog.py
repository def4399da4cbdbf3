"""Changelog: the fragments and changelogs/changelog.yaml pass
``antsibull-changelog lint``, CHANGELOG.rst is what ``antsibull-changelog
generate`` makes of changelog.yaml, and a release of the current fragments
works and carries every one of them."""
import os
import pathlib
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _run(cmd, cwd):
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    return proc, proc.stdout + proc.stderr


def _copy_checkout(dest):
    """The checkout's tracked and untracked files (not .git, not ignored ones) under dest."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for rel in filter(None, files):
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    return dest


def _fragments():
    return sorted((ROOT / "changelogs" / "fragments").glob("*.y*ml"))


def test_antsibull_changelog_lint():
    proc, out = _run(["antsibull-changelog", "lint"], ROOT)
    assert proc.returncode == 0 and not out.strip(), out


def test_changelog_rst_is_generated_from_changelog_yaml(tmp_path):
    copy = _copy_checkout(tmp_path / "postfix")
    proc, out = _run(["antsibull-changelog", "generate"], copy)
    assert proc.returncode == 0, out
    assert (copy / "CHANGELOG.rst").read_text() == (ROOT / "CHANGELOG.rst").read_text(), (
        "CHANGELOG.rst is not what `antsibull-changelog generate` makes of changelogs/changelog.yaml: run it"
    )


def test_a_release_of_the_fragments_carries_each_of_them(tmp_path):
    copy = _copy_checkout(tmp_path / "postfix")
    proc, out = _run(["antsibull-changelog", "release", "--version", "99.0.0", "--date", "2099-12-31"], copy)
    assert proc.returncode == 0, out
    released = yaml.safe_load((copy / "changelogs" / "changelog.yaml").read_text())["releases"]["99.0.0"]
    changes = released.get("changes", {})
    for fragment in _fragments():
        for section, entries in yaml.safe_load(fragment.read_text()).items():
            entries = [entries] if isinstance(entries, str) else entries
            for entry in entries:
                assert entry in changes.get(section, []), "%s: %s entry missing from the release" % (fragment.name, section)
    text = (copy / "CHANGELOG.rst").read_text()
    assert "v99.0.0" in text and "v0.1.0" in text, text[:2000]
    # keep_fragments: false - a release consumes them.
    assert not list((copy / "changelogs" / "fragments").glob("*.y*ml"))
