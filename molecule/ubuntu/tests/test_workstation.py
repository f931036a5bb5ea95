"""What a workstation looks like after converge: checked over SSH as root and as an ordinary user."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

CONFIG = yaml.safe_load((Path(__file__).parents[1] / "inventory" / "group_vars" / "all.yml").read_text()
                        .replace("!unsafe ", ""))
SYSTEM_FILE = "/etc/xdg/GILab/Starviewer.conf"


@pytest.fixture(scope="module")
def qt(host):
    """Settings as the stand-in Starviewer reads them through Qt 5 QSettings, as the ordinary user 'clinician'."""
    with host.sudo():
        host.run_expect([0, 9], "useradd -m -s /bin/bash clinician")
        out = host.check_output("sudo -u clinician -i /usr/bin/starviewer --dump-settings")
    return json.loads(out)


def test_package_installed(host):
    package = host.package("starviewer")
    assert package.is_installed
    assert package.version == "2.0.0-CE"


def test_system_file_is_root_owned_and_ascii(host):
    with host.sudo():
        conf = host.file(SYSTEM_FILE)
        assert (conf.user, conf.group, conf.mode) == ("root", "root", 0o644)
        assert conf.content.isascii()


def test_pacs_list_read_back_by_qt(qt):
    keys = qt["keys"]
    first, wado, hybrid = CONFIG["starviewer_pacs"]
    # An INI file has no types: Qt reads numbers and booleans back as strings; Starviewer converts them.
    assert keys["PacsList/size"] == "3"
    assert [keys["PacsList/%d/ID" % n] for n in (1, 2, 3)] == ["0", "1", "2"]
    assert keys["PacsList/1/AETitle"] == first["ae_title"]
    assert keys["PacsList/1/Location"] == first["location"]
    assert keys["PacsList/1/Description"] == first["description"]
    assert keys["PacsList/1/Institution"] == first["institution"]
    assert keys["PacsList/1/PacsPort"] == "11112"
    assert keys["PacsList/2/BaseUri"] == {"QUrl": wado["base_uri"]}
    assert "PacsList/2/AETitle" not in keys
    assert keys["PacsList/3/StoreServicePort"] == "11113"
    assert keys["PacsList/3/StoreServiceEnabled"] == "true"


def test_default_pacs_and_old_key(qt):
    keys = qt["keys"]
    assert keys["PACS/defaultPACSListToQuery2"] == (
        "@PACS,1;=pacs1.example.org:11112\\\\http://10.0.0.3/wado-uri/\U00012256PACS310.0.0.3:104\\\\")
    assert keys["PACS/defaultPACSListToQuery"] == ""
    assert qt["effective"]["default_pacs"] == [
        "@PACS,1;=pacs1.example.org:11112", "http://10.0.0.3/wado-uri/\U00012256PACS310.0.0.3:104"]


def test_local_settings(host, qt):
    keys = qt["keys"]
    assert keys["PACS/pacsparam/localPort"] == "4007"
    assert keys["PACS/pacsparam/AETitle"] == "SV%HOSTNAME%[8:]"
    assert qt["effective"]["ae_title"] == "SV" + host.check_output("hostname")[-8:]
    assert keys["PACS/cache/MaximumDaysNotViewedStudy"] == "14"
    assert keys["InstitutionInformation/InstitutionName"] == "Institut Mèdic Ç·é – prova"
    assert keys["ExternalApplications/1/url"] == "https://viewer.example.org/?uid={%StudyInstanceUID%}"


def test_access_level_file(host):
    ini = host.file("/opt/starviewer/settingsAccessLevel.ini")
    assert (ini.user, ini.group, ini.mode) == ("root", "root", 0o644)
    lines = ini.content_string.splitlines()
    assert "settingsAccessLevelVersion=1.0" in lines
    assert {line for line in lines if line.endswith("=system")} == {"PacsList=system", "pacsparam\\AETitle=system"}


def test_url_handler_is_the_default(host):
    answer = host.check_output("sudo -u clinician -i xdg-mime query default x-scheme-handler/starviewer")
    assert answer == "StarviewerUrlHandler.desktop"
    opened = host.check_output("sudo -u clinician -i /usr/bin/starviewer --url starviewer://accessionnumber/A123")
    assert "accessionnumber=A123" in opened
