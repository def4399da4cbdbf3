"""The collection's packaging metadata: meta/execution-environment.yml,
requirements.txt and bindep.txt are well-formed, read the way ansible-builder
reads them, shipped in the built artifact, and complete: every third-party
Python module that the control-node code of plugins/ imports is covered by
requirements.txt, and nothing there is left over.

Other collections: those that plugin code imports are galaxy.yml
dependencies (and only those); those that tasks use or action plugins execute
by name are optional, listed in requirements.yml. The built artifact installs
offline into an empty collections path and works there on its own.

The imports are computed from the code (ast), not listed here: a plugin that
starts or stops importing a package changes what this test expects.
"""
import ast
import copy
import importlib.metadata
import os
import pathlib
import re
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


OWN_COLLECTION = "vhosting.postfix"
# namespace.collection.name, as a task key, a Jinja filter/test or a module executed by name.
FQCN = re.compile(r"([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\.[a-z_][a-z0-9_]*")
# Filters, tests and lookups by FQCN inside the templates of the roles and playbooks.
JINJA_FQCN = re.compile(r"(?:\||\bis\s+(?:not\s+)?|\b(?:map|select|reject|selectattr|rejectattr|lookup|query)\("
                        r"[^)]*?['\"])\s*([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\.[a-z_][a-z0-9_]*")


def _foreign(collection):
    return collection != OWN_COLLECTION and collection.split(".")[0] != "ansible"


def _imported_collections():
    """The other collections that Python code under plugins/ imports: {collection: files}."""
    used = {}
    for path in PLUGINS.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for module in modules:
                parts = module.split(".")
                if parts[0] == "ansible_collections" and len(parts) > 2 and _foreign("%s.%s" % (parts[1], parts[2])):
                    used.setdefault("%s.%s" % (parts[1], parts[2]), set()).add(path.relative_to(ROOT).as_posix())
    return used


def _collections_used_by_name():
    """The other collections whose modules, filters or tests the shipped content names: {collection: files}.

    Task keys and Jinja filters/tests of the roles and playbooks, and the
    modules that action plugins execute by name (string constants).
    """
    used = {}

    def add(collection, path):
        if _foreign(collection):
            used.setdefault(collection, set()).add(path.relative_to(ROOT).as_posix())

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                match = FQCN.fullmatch(key) if isinstance(key, str) else None
                if match:
                    add(match.group(1), path)
                walk(value, path)
        elif isinstance(node, list):
            for value in node:
                walk(value, path)
        elif isinstance(node, str):
            for match in JINJA_FQCN.finditer(node):
                add(match.group(1), path)

    for path in sorted((ROOT / "roles").rglob("*.yml")) + sorted((ROOT / "playbooks").glob("*.yml")):
        walk(yaml.safe_load(path.read_text()), path)
    for path in sorted((ROOT / "roles").rglob("*.j2")):
        for match in JINJA_FQCN.finditer(path.read_text()):
            add(match.group(1), path)
    for path in sorted((PLUGINS / "action").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = FQCN.fullmatch(node.value)
                if match:
                    add(match.group(1), path)
    return used


def _optional_collections():
    """requirements.yml: {name: version}."""
    data = yaml.safe_load((ROOT / "requirements.yml").read_text())
    return {c["name"]: c.get("version") for c in data["collections"]}


def test_other_collections_are_galaxy_dependencies():
    # Only collections that plugin code imports must be there when the
    # collection is installed; anything else there makes an offline install
    # (or any install without Galaxy) fail for every user.
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    declared = set(galaxy.get("dependencies") or {})
    imported = _imported_collections()
    assert set(imported) <= declared, "collections imported but not in galaxy.yml dependencies: %s" % {
        c: sorted(imported[c]) for c in set(imported) - declared}
    assert declared <= set(imported), (
        "galaxy.yml dependencies that no plugin imports (optional ones belong in requirements.yml): %s"
        % sorted(declared - set(imported)))


def test_requirements_yml_is_well_formed():
    data = yaml.safe_load((ROOT / "requirements.yml").read_text())
    assert set(data) == {"collections"}, "requirements.yml lists collections only: %s" % sorted(data)
    names = [c["name"] for c in data["collections"]]
    assert len(names) == len(set(names)), names
    for entry in data["collections"]:
        assert set(entry) == {"name", "version"}, entry
        assert re.fullmatch(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", entry["name"]), entry
        assert re.fullmatch(r">=\d+\.\d+\.\d+", entry["version"]), "a version floor, >=X.Y.Z: %s" % entry


def test_collections_used_by_name_are_in_requirements_yml():
    used = _collections_used_by_name()
    # The scan finds what it must: the database backends and the DNS push.
    assert {"community.general", "community.mysql", "community.postgresql"} <= set(used), sorted(used)
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    covered = set(_optional_collections()) | set(galaxy.get("dependencies") or {})
    missing = {c: sorted(where) for c, where in used.items() if c not in covered}
    assert not missing, "collections used by tasks or executed by name, not in requirements.yml: %s" % missing
    unused = sorted(set(_optional_collections()) - set(used))
    assert not unused, "in requirements.yml but used by no role, playbook or action plugin: %s" % unused


# Python packages a module may import because the roles install their Debian package on the hosts that run it
# (ldap_rows: the server role installs python3-ldap with the ldap backend, _network_tables.PACKAGES).
HOST_PACKAGES = {"ldap": "python3-ldap", "psycopg2": "python3-psycopg2", "pymysql": "python3-pymysql"}


def test_modules_need_only_python_on_the_managed_hosts():
    # The modules and the module_utils they import run on the mail hosts,
    # where only python3 (and the packages the roles install) exists.
    roles_install = (PLUGINS / "module_utils" / "_network_tables.py").read_text()
    assert all('"%s"' % package in roles_install for package in HOST_PACKAGES.values())
    imported = _third_party(_closure(_module_files()))
    foreign = {m: w for m, w in imported.items() if m not in ("ansible", "ansible_collections") + tuple(HOST_PACKAGES)}
    assert not foreign, "modules import packages the managed hosts do not have: %s" % foreign


def _tool_env(**extra):
    return dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""), **extra)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    out = tmp_path_factory.mktemp("artifact")
    proc = subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(out), str(ROOT)],
                          capture_output=True, text=True, check=False, env=_tool_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("vhosting-postfix-*.tar.gz")
    return path


@pytest.fixture(scope="module")
def artifact_names(artifact):
    with tarfile.open(artifact) as tar:
        return set(tar.getnames())


def test_artifact_ships_the_execution_environment_metadata(artifact_names):
    # ansible-builder introspects the installed collection: the three files
    # must be in it (galaxy.yml build_ignore must not drop them).
    for name in ("meta/execution-environment.yml", "requirements.txt", "bindep.txt", "CHANGELOG.rst",
                 "changelogs/changelog.yaml"):
        assert name in artifact_names, name
    assert "changelogs/.plugin-cache.yaml" not in artifact_names


def test_artifact_holds_the_collection_and_its_docs_only(artifact_names):
    for name in ("LICENSE", "README.md", "requirements.yml", "meta/runtime.yml", "docs/network-tables.md",
                 "plugins/modules/postconf.py", "plugins/test/collection_installed.py", "playbooks/site.yml",
                 "roles/server/tasks/main.yml"):
        assert name in artifact_names, name
    development = ("tests", "bench", "molecule", "scripts", "inventories", ".ci", ".ansible", ".git")
    shipped = sorted(n for n in artifact_names if n.split("/")[0] in development)
    assert not shipped, shipped[:20]


def test_artifact_installs_offline_into_an_empty_collections_path_on_its_own(artifact, tmp_path):
    """The README's install command on a machine with no other collection: no Galaxy, no bundled collections."""
    install = tmp_path / "collections"
    install.mkdir()
    env = _tool_env(ANSIBLE_COLLECTIONS_PATH=str(install), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="False",
                    ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_PYTHON_INTERPRETER=sys.executable)

    def run(*cmd):
        proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False, env=env, cwd=tmp_path)
        return proc.returncode, proc.stdout + proc.stderr

    rc, out = run("ansible-galaxy", "collection", "install", "--offline", "-p", str(install), str(artifact))
    assert rc == 0, out
    installed = install / "ansible_collections"
    assert sorted(p.relative_to(installed).as_posix() for p in installed.glob("*/*")) == ["vhosting/postfix"], out
    rc, out = run("ansible-doc", "-t", "module", "vhosting.postfix.postconf")
    assert rc == 0 and "vhosting.postfix.postconf" in out, out
    rc, out = run("ansible-doc", "-t", "test", "vhosting.postfix.collection_installed")
    assert rc == 0, out
    # Nothing else is visible there; the database backends say what is missing
    # and how to install it instead of Ansible's "couldn't resolve module".
    rc, out = run("ansible", "localhost", "-c", "local", "-m", "vhosting.postfix.network_tables", "-a",
                  '{"backend": "ldap", "connection": {}, "tables": {}}')
    assert rc != 0, out
    requirements = installed / "vhosting" / "postfix" / "requirements.yml"
    assert requirements.is_file()
    assert "needs the collection community.general" in out and "-r %s" % requirements in " ".join(out.split()), out
