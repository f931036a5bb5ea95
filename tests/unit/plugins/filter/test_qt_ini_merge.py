"""qt_ini_merge: a file the merge cannot edit safely is an error, or the caller's on_error value."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.filter.qt_ini_merge import qt_ini_merge

# An open quote on the last line swallows any key inserted after it (see test_qt_ini.py).
UNSAFE = '[A]\na=1\ntail="open'


def test_a_file_that_cannot_be_edited_safely_is_an_error_by_default():
    with pytest.raises(AnsibleFilterError, match="safely"):
        qt_ini_merge(UNSAFE, {"A/z": "v"})


def test_on_error_returns_the_given_value_instead():
    assert qt_ini_merge(UNSAFE, {"A/z": "v"}, on_error=None) is None
    assert qt_ini_merge(UNSAFE, {"A/z": "v"}, None, None, "pending") == "pending"


def test_on_error_does_not_hide_bad_arguments():
    with pytest.raises(AnsibleFilterError, match="remove must be a list"):
        qt_ini_merge("", {}, "A/z", on_error=None)


def test_a_safe_merge_is_unchanged_by_on_error():
    assert qt_ini_merge("[A]\na=1\n", {"A/z": "v"}, on_error=None) == "[A]\na=1\nz=v\n"
