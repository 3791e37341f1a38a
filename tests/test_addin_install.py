"""`xl-ar addin install | remove`: xlwings' conventions on Windows and macOS, run in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from xl_ar.addin import install as inst

ADDIN_BYTES = b"PK\x03\x04 a stand-in for xl_ar.xlam"


@pytest.fixture()
def addin(tmp_path) -> Path:
    path = tmp_path / "build" / "xl_ar.xlam"
    path.parent.mkdir()
    path.write_bytes(ADDIN_BYTES)
    return path


def windows(tmp_path: Path) -> dict:
    return {"system": "Windows", "home": tmp_path / "home",
            "env": {"APPDATA": str(tmp_path / "Roaming"), "USERPROFILE": str(tmp_path / "profile")}}


def test_windows_install_copies_the_addin_to_the_user_xlstart_and_writes_the_user_config(addin, tmp_path):
    message = inst.install(addin, executable=r"C:\Python311\python.exe", **windows(tmp_path))
    copied = tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / "xl_ar.xlam"
    config = tmp_path / "profile" / ".xl_ar" / "xl_ar.conf"
    assert copied.read_bytes() == ADDIN_BYTES
    assert config.read_bytes() == (b'"INTERPRETER_WIN","C:\\Python311\\pythonw.exe"\r\n'
                                   b'"UDF MODULES","udfs.functions"\r\n')
    assert str(copied) in message and str(config) in message


def test_macos_install_uses_the_startup_folder_and_the_excel_container_config(addin, tmp_path):
    home = tmp_path / "home"
    message = inst.install(addin, system="Darwin", env={}, home=home, executable="/opt/py/bin/python3")
    copied = (home / "Library" / "Group Containers" / "UBF8T346G9.Office" / "User Content.localized"
              / "Startup.localized" / "Excel" / "xl_ar.xlam")
    config = home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xl_ar.conf"
    assert copied.read_bytes() == ADDIN_BYTES
    assert config.read_text() == '"INTERPRETER_MAC","/opt/py/bin/python3"\n"UDF MODULES","udfs.functions"\n'
    assert "Restart Excel" in message


def test_the_config_has_no_blank_line_because_vba_input_stops_there():
    for system in ("Windows", "Darwin"):
        lines = inst.config_text(system, "python").splitlines()
        assert len(lines) == 2 and all(line.startswith('"') and line.endswith('"') for line in lines)


def test_windows_uses_pythonw_beside_python_and_keeps_any_other_interpreter():
    assert inst.interpreter(r"C:\venv\Scripts\python.exe", "Windows") == r"C:\venv\Scripts\pythonw.exe"
    assert inst.interpreter(r"C:\venv\Scripts\pythonw.exe", "Windows") == r"C:\venv\Scripts\pythonw.exe"
    assert inst.interpreter("/usr/bin/python3", "Darwin") == "/usr/bin/python3"


@pytest.mark.parametrize("system", ["Windows", "Darwin"])
def test_remove_undoes_install(addin, tmp_path, system):
    where = {**windows(tmp_path), "system": system}
    inst.install(addin, executable="python", **where)
    places = inst.places(system, where["env"], where["home"])
    assert places.addin.exists() and places.config_file.exists()
    message = inst.remove(**where)
    assert not places.addin.exists() and not places.config_file.exists()
    assert str(places.addin) in message
    assert inst.remove(**where) == "The Medical A/R add-in was not installed; nothing to remove."


def test_windows_remove_deletes_the_empty_config_folder_only(addin, tmp_path):
    inst.install(addin, executable="python", **windows(tmp_path))
    inst.remove(**windows(tmp_path))
    assert not (tmp_path / "profile" / ".xl_ar").exists()
    assert (tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART").is_dir()  # Excel's folder stays


def test_install_again_replaces_the_addin_and_config(addin, tmp_path):
    inst.install(addin, executable="old", **windows(tmp_path))
    addin.write_bytes(b"newer build")
    inst.install(addin, executable="new", **windows(tmp_path))
    assert (tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / "xl_ar.xlam").read_bytes() == b"newer build"
    assert '"INTERPRETER_WIN","new"' in (tmp_path / "profile" / ".xl_ar" / "xl_ar.conf").read_text()


def test_install_and_remove_keep_the_settings_in_the_user_file(addin, tmp_path):
    config = tmp_path / "profile" / ".xl_ar" / "xl_ar.conf"
    config.parent.mkdir(parents=True)
    config.write_bytes(b'"store","\\\\server\\ar\\team.sqlite"\r\n"INTERPRETER_WIN","C:\\old\\pythonw.exe"\r\n')
    inst.install(addin, executable=r"C:\Python311\python.exe", **windows(tmp_path))
    assert config.read_bytes() == (b'"store","\\\\server\\ar\\team.sqlite"\r\n'
                                   b'"INTERPRETER_WIN","C:\\Python311\\pythonw.exe"\r\n'
                                   b'"UDF MODULES","udfs.functions"\r\n')
    message = inst.remove(**windows(tmp_path))
    assert config.read_bytes() == b'"store","\\\\server\\ar\\team.sqlite"\r\n'
    assert "your settings there are kept" in message


def test_on_linux_both_commands_say_excel_is_needed_and_change_nothing(addin, tmp_path):
    home = tmp_path / "home"
    assert inst.install(addin, system="Linux", env={}, home=home) == inst.NO_EXCEL
    assert inst.remove(system="Linux", env={}, home=home) == inst.NO_EXCEL
    assert not home.exists()
    assert "Excel is needed" in inst.NO_EXCEL


def test_a_missing_addin_file_is_a_message_not_an_exception(tmp_path):
    message = inst.install(tmp_path / "nowhere.xlam", executable="python", **windows(tmp_path))
    assert message.startswith("No add-in to install")
    assert not (tmp_path / "profile").exists()


def test_without_a_path_install_copies_the_add_in_shipped_in_the_package(tmp_path):
    inst.install(executable="python", **windows(tmp_path))
    copied = tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / "xl_ar.xlam"
    assert copied.read_bytes() == inst.SHIPPED.read_bytes()


def test_a_package_without_its_add_in_says_how_to_build_one(tmp_path, monkeypatch):
    monkeypatch.setattr(inst, "SHIPPED", tmp_path / "not-shipped" / "xl_ar.xlam")
    message = inst.install(executable="python", **windows(tmp_path))
    assert message.startswith("No add-in in this installation: build one with `xl-ar addin build`")
    assert not (tmp_path / "Roaming").exists()
