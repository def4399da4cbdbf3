"""The collection's packaging metadata: meta/execution-environment.yml,
requirements.txt and bindep.txt are well-formed, read the way ansible-builder
reads them, shipped in the built artifact, and complete: every third-party
Python module that the control-node code of plugins/ imports is covered by
requirements.txt, and nothing there is left over.

The imports are computed from the code (ast), not listed here: a plugin that
starts or stops importing a package changes what this test expects.
"""
import ast
import copy
import importlib.metadata
import os
import pathlib
import subprocess
import sys
import tarfile

import pytest
import yaml
from ansible_builder._target_scripts import introspect
from ansible_builder.ee_schema import validate_schema
from bindep.depends import Depends
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "plugins"
OWN_PREFIX = "ansible_collections.vhosting.postfix."
# Listed in requirements.txt without being imported by name: the engine that
# runs the collection (ansible-core) and its template engine (the filters are
# Jinja2 filters).
ENGINE = {"ansible-core", "jinja2"}


def _requirement_lines(path):
    """Requirement lines of a pip requirements file, as ansible-builder reads them."""
    return introspect.pip_file_data(str(path))


def _requirements():
    return {canonicalize_name(Requirement(line).name): line for line in _requirement_lines(ROOT / "requirements.txt")}


def _imports(path):
    """(top-level names, own module_utils files) imported by one Python file, at any depth."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names, own = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules = [node.module] + ["%s.%s" % (node.module, alias.name) for alias in node.names]
        else:
            continue  # relative imports stay inside the collection
        for module in modules:
            if module.startswith(OWN_PREFIX):
                rel = module[len(OWN_PREFIX):].replace(".", "/")
                if (ROOT / (rel + ".py")).is_file():
                    own.add(ROOT / (rel + ".py"))
            else:
                names.add(module.split(".")[0])
    return names, own


def _closure(files):
    """Top-level names imported by files and by the module_utils they import, transitively."""
    seen, names, todo = set(), {}, list(files)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        found, own = _imports(path)
        for name in found:
            names.setdefault(name, set()).add(path.relative_to(ROOT).as_posix())
        todo.extend(own)
    return names


def _third_party(names):
    return {n: where for n, where in names.items() if n not in sys.stdlib_module_names}


def _control_node_files():
    """Everything under plugins/ that runs in the controller (not modules/, not module_utils/ by itself)."""
    return [p for p in PLUGINS.rglob("*.py") if p.relative_to(PLUGINS).parts[0] not in ("modules", "module_utils")]


def _module_files():
    return sorted((PLUGINS / "modules").glob("*.py"))


def _distributions(module):
    return {canonicalize_name(d) for d in importlib.metadata.packages_distributions().get(module, [])}


def test_requirements_txt_is_well_formed():
    lines = _requirement_lines(ROOT / "requirements.txt")
    assert lines, "requirements.txt names no package"
    names = [canonicalize_name(Requirement(line).name) for line in lines]  # raises on a malformed line
    assert len(names) == len(set(names)), "a package is listed twice: %s" % lines
    for line in lines:
        assert Requirement(line).specifier, "no version range for %r" % line


def test_bindep_txt_is_well_formed():
    text = (ROOT / "bindep.txt").read_text()
    depends = Depends(text)  # raises DependsException on a syntax error
    for profiles in (["platform:dpkg", "platform:debian"], ["platform:rpm", "platform:redhat"]):
        assert depends.active_rules(profiles), "bindep.txt installs nothing on %s" % profiles
    assert introspect.bindep_file_data(str(ROOT / "bindep.txt")), "no package lines"


def test_execution_environment_definition_is_valid_v3():
    raw = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    validate_schema(copy.deepcopy(raw))  # raises DefinitionError
    assert raw["version"] == 3
    assert raw["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}


def test_ansible_builder_introspection_reads_both_files():
    # What ansible-builder does with the installed collection: the same lines
    # as the files, through meta/execution-environment.yml.
    pip_lines, bindep_lines = introspect.process_collection(str(ROOT))
    assert pip_lines == _requirement_lines(ROOT / "requirements.txt")
    assert bindep_lines == introspect.bindep_file_data(str(ROOT / "bindep.txt"))


def test_control_node_imports_are_covered_by_requirements_txt():
    imported = _third_party(_closure(_control_node_files()))
    assert "ansible" in imported, "the import scan found no ansible import at all: %s" % sorted(imported)
    required = _requirements()
    missing = []
    for module, where in sorted(imported.items()):
        if module == "ansible_collections":
            continue  # other collections: test_other_collections_are_galaxy_dependencies
        dists = _distributions(module)
        if not dists or not dists & set(required):
            missing.append("%s (distribution %s; imported by %s)" % (
                module, ", ".join(sorted(dists)) or "not installed", ", ".join(sorted(where))))
    assert not missing, "imported on the control node but not in requirements.txt: %s" % "; ".join(missing)


def test_requirements_txt_has_nothing_left_over():
    imported = _third_party(_closure(_control_node_files()))
    used = set().union(*(_distributions(m) for m in imported)) if imported else set()
    unused = sorted(set(_requirements()) - used - ENGINE)
    assert not unused, "in requirements.txt but imported by no control-node code under plugins/: %s" % unused


def test_other_collections_are_galaxy_dependencies():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    declared = set(galaxy.get("dependencies") or {})
    used = set()
    for path in list(PLUGINS.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for module in modules:
                parts = module.split(".")
                if parts[0] == "ansible_collections" and len(parts) > 2 and parts[1:3] != ["vhosting", "postfix"]:
                    used.add("%s.%s" % (parts[1], parts[2]))
    assert used <= declared, "collections imported but not in galaxy.yml dependencies: %s" % sorted(used - declared)


def test_modules_need_only_python_on_the_managed_hosts():
    # The modules and the module_utils they import run on the mail hosts,
    # where only python3 (and the packages the roles install) exists.
    imported = _third_party(_closure(_module_files()))
    foreign = {m: w for m, w in imported.items() if m not in ("ansible", "ansible_collections")}
    assert not foreign, "modules import packages the managed hosts do not have: %s" % foreign


@pytest.fixture(scope="module")
def artifact_names(tmp_path_factory):
    out = tmp_path_factory.mktemp("artifact")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(out), str(ROOT)],
                          capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (artifact,) = out.glob("vhosting-postfix-*.tar.gz")
    with tarfile.open(artifact) as tar:
        return set(tar.getnames())


def test_artifact_ships_the_execution_environment_metadata(artifact_names):
    # ansible-builder introspects the installed collection: the three files
    # must be in it (galaxy.yml build_ignore must not drop them).
    for name in ("meta/execution-environment.yml", "requirements.txt", "bindep.txt", "CHANGELOG.rst",
                 "changelogs/changelog.yaml"):
        assert name in artifact_names, name
    assert "changelogs/.plugin-cache.yaml" not in artifact_names
