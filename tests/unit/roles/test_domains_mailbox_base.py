# -*- coding: utf-8 -*-
"""The domains role leaves the mailbox base to the mailboxes module (issue 19 item 7).

ansible.builtin.file with state=directory follows a symbolic link at its
path and gives the link's target to vmail (0750) before the mailboxes
module could refuse it; no task of the role may touch the base by path.
"""
import pathlib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
BASE = "vhosting_postfix__model.domains.mailbox_base"


def tasks(items):
    for item in items or []:
        yield item
        for key in ("block", "rescue", "always"):
            yield from tasks(item.get(key))


def role_tasks():
    for path in sorted((ROOT / "roles" / "domains" / "tasks").glob("*.yml")):
        for task in tasks(yaml.safe_load(path.read_text())):
            yield path.name, task


def test_no_path_based_task_touches_the_mailbox_base():
    offenders = [(name, task.get("name")) for name, task in role_tasks()
                 for module in ("ansible.builtin.file", "ansible.builtin.copy", "ansible.builtin.template")
                 if BASE in str(task.get(module, ""))]
    assert offenders == []


def test_the_mailboxes_module_creates_and_corrects_the_base_whatever_the_number_of_mailboxes():
    found = [task for _name, task in role_tasks() if "vhosting.postfix.mailboxes" in task]
    assert len(found) == 1
    args = found[0]["vhosting.postfix.mailboxes"]
    assert BASE in args["base"] and args["base_mode"] == "0750"
    assert "when" not in found[0]  # runs with no mailbox too: it creates the base
