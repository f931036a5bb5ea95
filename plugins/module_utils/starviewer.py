# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Starviewer 2.0 configuration model: setting keys, PACS list, default PACS, AE title expressions.

Pure functions only (no I/O), shared by the filters, the action plugins and the modules. Everything here
follows what the Starviewer 2.0 program does (docs/reference: starviewer-behaviour.md), not the admin manual
where the two disagree. Standard library only: this file is shipped to target hosts running Python 3.9+.
"""

from __future__ import annotations

import difflib
import re
import struct
import unicodedata

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import (
    QtUrl,
    escape_key,
    format_value,
    qurl_encoded,
    qurl_string,
)

__all__ = [
    "SETTINGS",
    "StarviewerInputError",
    "access_level_ini",
    "ae_title_expr",
    "ae_title_problems",
    "build_settings",
    "coerce_setting",
    "default_pacs_list",
    "expression_variables",
    "normalize_external_applications",
    "normalize_pacs",
    "pacs_array",
    "pacs_key",
    "setting_type",
]


class StarviewerInputError(ValueError):
    """Bad user input; the message names the variable, the value received and what is allowed."""

    def __init__(self, variable: str, value: object, allowed: str) -> None:
        self.variable = variable
        self.value = value
        self.allowed = allowed
        super().__init__(f"{variable}: got {_show(value)}; allowed: {allowed}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _suggest(word: str, candidates: list[str]) -> str:
    """' (did you mean X?)' for the closest candidate, '' when nothing is close."""
    lowered = {c.lower(): c for c in candidates}
    if word.lower() in lowered:
        return f" (did you mean {lowered[word.lower()]!r}? names are case-sensitive)"
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ---------------------------------------------------------------------------------------------------------------
# Setting keys
# ---------------------------------------------------------------------------------------------------------------

# Type names say how the program (or its GUI) stores the value, which decides INI text and registry type:
# several numeric settings are written by the GUI as strings (REG_SZ), so they are "string" here on purpose.
SETTINGS: dict[str, str] = {
    # PACS/cache
    "PACS/cache/sdatabasePath": "string",
    "PACS/cache/imagePath": "string",
    "PACS/cache/deleteOldStudiesHasNotViewedInDays": "bool",
    "PACS/cache/deleteOldStudiesIfNotEnoughSpaceAvailable": "bool",
    "PACS/cache/MaximumDaysNotViewedStudy": "string",
    "PACS/cache/minimumSpaceRequiredToRetrieveInGbytes": "uint",
    "PACS/cache/GbytesOfOldStudiesToDeleteIfNotEnoughSapaceAvailable": "uint",
    # PACS/pacsparam
    "PACS/pacsparam/localPort": "string",
    "PACS/pacsparam/AETitle": "string",
    "PACS/pacsparam/timeout": "string",
    "PACS/pacsparam/MaxConnects": "string",
    # PACS/risRequests
    "PACS/risRequests/listen": "bool",
    "PACS/risRequests/listenPort": "int",
    "PACS/risRequests/viewAutomaticallyAStudyRetrievedFromRisRequest": "bool",
    # PACS (other)
    "PACS/defaultPACSListToQuery": "string",
    "PACS/defaultPACSListToQuery2": "string",
    "PACS/interface/lastOpenedDICOMDIRPath": "string",
    "PACS/interface/queryscreen/PACSListIsVisible": "bool",
    "PACS/interface/studyPacsList/sortByColumn": "int",
    "PACS/interface/studyPacsList/sortOrder": "int",
    "PACS/interface/studyCacheList/sortByColumn": "int",
    "PACS/interface/studyCacheList/sortOrder": "int",
    "PACS/interface/studyDicomdirList/sortByColumn": "int",
    "PACS/interface/studyDicomdirList/sortOrder": "int",
    "PACS/interface/qOperationState/sortByColumn": "int",
    "PACS/interface/qOperationState/sortOrder": "int",
    # DICOMDIR
    "DICOMDIR/DICOMDIRBurningApplication": "string",
    "DICOMDIR/DICOMDIRBurningApplicationParameters": "string",
    "DICOMDIR/DICOMDIRBurningApplicationCDParameters": "string",
    "DICOMDIR/DICOMDIRBurningApplicationDVDParameters": "string",
    "DICOMDIR/DICOMDIRBurningApplicationHasDifferentCDDVDParameters": "bool",
    "DICOMDIR/ConvertDICOMDIRImagesToLittleEndian": "bool",
    "DICOMDIR/DICOMDIRFolderPathToCopy": "string",
    "DICOMDIR/CopyFolderContentToDICOMDIRCdDvd": "bool",
    "DICOMDIR/CopyFolderContentToDICOMDIRUsbHardDisk": "bool",
    # InstitutionInformation
    "InstitutionInformation/InstitutionName": "string",
    "InstitutionInformation/InstitutionTown": "string",
    "InstitutionInformation/InstitutionAddress": "string",
    "InstitutionInformation/InstitutionZipCode": "string",
    "InstitutionInformation/InstitutionCountry": "string",
    "InstitutionInformation/InstitutionPhoneNumber": "string",
    "InstitutionInformation/InstitutionEmail": "string",
    "SearchRelatedStudiesByName": "bool",
    # Core
    "ScreenshotTool/defaultSaveFolder": "string",
    "ScreenshotTool/defaultSaveExtension": "string",
    "ScreenshotTool/defaultSaveName": "string",
    "Hanging-Protocols/path": "string",
    "DefaultTags/path": "string",
    "CustomWindowLevels/path": "string",
    "LoggingPolicy/registerStatistics": "bool",
    "Tools/MagnifyingGlassZoomFactor": "string",
    "Starviewer-Language/languageLocale": "string",
    "Input/ForcedImageReaderLibrary": "string",
    "Input/ForceITKImageReaderForSpecifiedModalities": "string",
    "Input/ForceVTKImageReaderForSpecifiedModalities": "string",
    "LastReleaseNotesVersionShown": "string",
    "NeverShowNewVersionReleaseNotes": "bool",
    "LastVersionChecked": "string",
    "LastVersionCheckedDate": "string",
    "CheckVersionInterval": "int",
    "DontCheckNewVersionsOnline": "bool",
    "UpdateCheckUrlAdditionalParameters": "string",
    "MammographyAutoOrientationExceptions": "stringlist",
    "AllowAsynchronousVolumeLoading": "bool",
    "MaximumNumberOfVolumesLoadingConcurrently": "int",
    "MaximumNumberOfVisibleVoiLutComboItems": "int",
    "2DViewer/enable2DViewerSliceScrollLoop": "bool",
    "2DViewer/enable2DViewerPhaseScrollLoop": "bool",
    "2DViewer/enable2DViewerWheelVolumeScroll": "bool",
    "2DViewer/enable2DViewerMouseWraparound": "bool",
    "2DViewer/enable2DViewerReferenceLinesForMR": "bool",
    "2DViewer/enable2DViewerReferenceLinesForCT": "bool",
    "2DViewer/ModalitiesWithZoomToolByDefault": "string",
    "2DViewer/enable2DViewerAutomaticSynchronizationForMR": "bool",
    "2DViewer/enable2DViewerAutomaticSynchronizationForCT": "bool",
    "2DViewer/modalitiesToApplyHangingProtocolsAsFirstOption": "string",
    "2DViewer/ModalitiesWithPropagationEnabledByDefault": "string",
    "2DViewer/Measurement/SUVMeasurementNormalizationType": "string",
    "2DViewer/Measurement/measurementDisplayVerbosity": "string",
    "DontForceMultiSampling": "bool",
    "scaleFactor": "int",
    "CrosshairInnerDiameter": "int",
    "CrosshairOuterDiameter": "int",
    "ShowViewersTextualInformation": "bool",
    "ComparisionModeDivision": "string",
    # Interface and extensions
    "Starviewer-App-ImportFile/workingDirectory": "string",
    "Starviewer-App-ImportFile/workingDicomDirectory": "string",
    "Starviewer-App-ImportFile/defaultExtension": "string",
    "Extensions/allowMultipleExtensionInstances": "bool",
    "Extensions/defaultImageExtension": "string",
    "Extensions/defaultEncapsulatedDocumentExtension": "string",
    "Extensions/dontShowMedicalDeviceInformationDialog": "bool",
    "Starviewer-App-2DViewer/profile": "string",
    "Starviewer-App-3DTesting/customClutsDir": "string",
    # List settings, stored with QSettings::beginWriteArray
    "PacsList": "array",
    "ExternalApplications": "array",
    "2DViewer/Annotations": "array",
    "2DViewer/StudyLayoutConfigList": "array",
}

_SHORTCUTS_PREFIX = "Shortcuts/"

# Window state (QByteArray) and bookkeeping the program rewrites itself: never worth setting, but an
# administrator may want to clear a stale value, so these can be removed.
_STATE_KEYS = (
    "geometry",
    "logViewerDialogGeometry",
    "QDICOMDumpBrowserGeometry",
    "PACS/interface/qCreateDicomdir/geometry",
    "PACS/interface/queryscreen/geometry",
    "PACS/interface/queryscreen/StudyTreeSeriesListQSplitterState",
    "Starviewer-App-MPR/horizontalSplitter",
    "Starviewer-App-MPR/verticalSplitter",
    "PACS/RetrievingStudy",
    "PACS/StudiesBeingRetrieved",
)

# Keys owned by a dedicated public variable, so starviewer_settings cannot fight with it.
_MANAGED_KEYS = {
    "PacsList": "starviewer_pacs",
    "PACS/defaultPACSListToQuery2": "starviewer_pacs (query_by_default on each item)",
    "PACS/defaultPACSListToQuery": "starviewer_pacs (it is always cleared when starviewer_pacs is managed)",
    "PACS/pacsparam/AETitle": "starviewer_local_ae_title",
    "PACS/pacsparam/localPort": "starviewer_local_port",
    "ExternalApplications": "starviewer_external_applications",
}

# Ranges of the GUI validators (QIntValidator) for numbers; the GUI writes some of them as strings.
_INT_RANGES = {
    "PACS/cache/MaximumDaysNotViewedStudy": (0, 9999),
    "PACS/cache/minimumSpaceRequiredToRetrieveInGbytes": (0, 999),
    "PACS/cache/GbytesOfOldStudiesToDeleteIfNotEnoughSapaceAvailable": (0, 9999),
    "PACS/pacsparam/localPort": (0, 65535),
    "PACS/pacsparam/timeout": (0, 99),
    "PACS/pacsparam/MaxConnects": (1, 15),
    "PACS/risRequests/listenPort": (0, 65535),
    "CheckVersionInterval": (1, 2147483647),
    "MaximumNumberOfVolumesLoadingConcurrently": (1, 2147483647),
}

# String settings with a closed set of values (anything else silently falls back in the program).
_CHOICES = {
    "ComparisionModeDivision": ("CurrentLeftPriorRight", "CurrentRightPriorLeft", "CurrentTopPriorBottom",
                                "CurrentBottomPriorTop"),
    "Tools/MagnifyingGlassZoomFactor": ("1.5", "2", "4", "6", "8"),
}

_INT32 = (-2147483648, 2147483647)
_UINT32 = (0, 4294967295)

_KEY_HELP = "a Starviewer 2.0 setting key such as PACS/cache/imagePath (case-sensitive); see the collection docs"


def setting_type(key: str) -> str | None:
    """Qt type Starviewer writes for ``key`` (string, int, uint, bool, stringlist, url, array), or None."""
    if not isinstance(key, str):
        return None
    if key in SETTINGS:
        return SETTINGS[key]
    if _is_shortcut_key(key):
        return "stringlist"
    return None


def _is_shortcut_key(key: str) -> bool:
    name = key[len(_SHORTCUTS_PREFIX):]
    return key.startswith(_SHORTCUTS_PREFIX) and re.fullmatch(r"[A-Za-z0-9_]+", name) is not None


def _unknown_key(key: object, variable: str, extra: tuple = ()) -> StarviewerInputError:
    candidates = list(SETTINGS) + list(extra)
    hint = _suggest(key, candidates) if isinstance(key, str) else ""
    if isinstance(key, str) and key in _STATE_KEYS:
        return StarviewerInputError(variable, key, f"a configurable setting; {key} is window state or bookkeeping that "
                                    "Starviewer rewrites itself (it can only be removed)")
    return StarviewerInputError(variable, key, _KEY_HELP + hint)


def _check_key(key: object, variable: str) -> str:
    if not isinstance(key, str) or setting_type(key) is None:
        raise _unknown_key(key, variable)
    return key


def _coerce_bool(value: object, variable: str) -> bool:
    if isinstance(value, bool):
        return value
    # Qt reads "yes"/"on"/"1" as true and "no"/"off" as TRUE as well, so only unambiguous spellings pass.
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise StarviewerInputError(variable, value, "true or false")


def _coerce_int(value: object, variable: str, lo: int, hi: int) -> int:
    allowed = f"an integer from {lo} to {hi}"
    if isinstance(value, bool):
        raise StarviewerInputError(variable, value, allowed)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        raise StarviewerInputError(variable, value, allowed)
    if not lo <= number <= hi:
        raise StarviewerInputError(variable, value, allowed)
    return number


def _coerce_str(value: object, variable: str, allowed: str = "a string") -> str:
    if isinstance(value, str):
        if "\x00" in value:
            # Qt 5 writes NUL-containing strings in a form older Qt releases may not read; refuse them up front.
            raise StarviewerInputError(variable, value, allowed + " without NUL characters")
        return value
    # Plain numbers are turned into the decimal text the GUI would have written; bools and floats are not,
    # because "True"/"1.0" are never what Starviewer expects.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise StarviewerInputError(variable, value, allowed)


def _coerce_url(value: object, variable: str) -> QtUrl:
    url = value.url if isinstance(value, QtUrl) else value
    if not isinstance(url, str):
        raise StarviewerInputError(variable, value, "a URL string")
    try:
        qurl_encoded(url)
    except ValueError:
        raise StarviewerInputError(variable, value, "a valid URL (Qt's QUrl must accept it)") from None
    return QtUrl(url)


def coerce_setting(key: str, value: object, variable: str) -> object:
    """Validated Python value for setting ``key``: bool, int, str, list of str or QtUrl."""
    key = _check_key(key, variable)
    kind = setting_type(key)
    if kind == "array":
        owner = _MANAGED_KEYS.get(key)
        allowed = (f"use {owner} instead") if owner else f"a plain setting; list settings such as {key} cannot be " \
            "set through starviewer_settings (they can be removed with starviewer_settings_remove)"
        raise StarviewerInputError(variable, value, allowed)
    if kind == "bool":
        return _coerce_bool(value, variable)
    if kind in ("int", "uint"):
        lo, hi = _INT_RANGES.get(key, _UINT32 if kind == "uint" else _INT32)
        return _coerce_int(value, variable, lo, hi)
    if kind == "stringlist":
        allowed = "a non-empty list of strings (Qt stores an empty list as an invalid value, which Starviewer " \
                  "reads as the default; remove the key instead)"
        if not isinstance(value, (list, tuple)) or not value:
            raise StarviewerInputError(variable, value, allowed)
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise StarviewerInputError(f"{variable}[{index}]", item, "a string")
        return list(value)
    if kind == "url":
        return _coerce_url(value, variable)
    return _coerce_string_setting(key, value, variable)


def _coerce_string_setting(key: str, value: object, variable: str) -> str:
    if key in _INT_RANGES:
        lo, hi = _INT_RANGES[key]
        # Stored as text, read back with toInt(): anything but plain decimal digits would read as 0.
        return str(_coerce_int(value, variable, lo, hi))
    if key in _CHOICES:
        text = _coerce_str(value, variable)
        if text not in _CHOICES[key]:
            raise StarviewerInputError(variable, value, "one of " + ", ".join(_CHOICES[key]))
        return text
    text = _coerce_str(value, variable)
    if key == "PACS/cache/imagePath" and not text.endswith(("/", "\\")):
        # Study folders are made by plain concatenation of this path and the study UID.
        raise StarviewerInputError(variable, value, "a directory path ending with / (or \\ on Windows)")
    return text


# ---------------------------------------------------------------------------------------------------------------
# AE titles
# ---------------------------------------------------------------------------------------------------------------

_AE_MAX = 16


def ae_title_problems(title: str) -> list[str]:
    """Reasons why ``title`` cannot be used as a DICOM AE title (PS3.5 AE VR); empty list when it can."""
    if not isinstance(title, str):
        return ["is not a string"]
    problems = []
    if title == "":
        return ["is empty"]
    if len(title) > _AE_MAX:
        problems.append(f"is {len(title)} characters long; DICOM allows at most {_AE_MAX}")
    if title.strip(" ") == "":
        problems.append("consists only of spaces")
    elif title != title.strip(" "):
        problems.append("has leading or trailing spaces, which DICOM does not count as part of the title")
    if "\\" in title:
        problems.append("contains a backslash, the DICOM value separator")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in title):
        problems.append("contains control characters")
    if any(ord(ch) > 0x7F for ch in title):
        problems.append("contains non-ASCII characters")
    return problems


def _check_ae_title(value: object, variable: str) -> str:
    if not isinstance(value, str):
        raise StarviewerInputError(variable, value, "a string")
    problems = ae_title_problems(value)
    if problems:
        raise StarviewerInputError(variable, value, "1 to 16 printable ASCII characters without backslash "
                                   f"(this one {'; '.join(problems)})")
    return value


# ---------------------------------------------------------------------------------------------------------------
# AE title expressions (Starviewer's SettingsParser)
# ---------------------------------------------------------------------------------------------------------------

# QMap keys are iterated in sorted order; USERNAME is absent because Starviewer never manages to define it.
_PARSER_KEYS = ("HOMEPATH", "HOSTNAME", "IP", "IP.1", "IP.2", "IP.3", "IP.4")
_PARSER_PATTERNS = tuple("%" + key + "%" for key in _PARSER_KEYS)

# QChar::isSpace(), which QRegExp's \S negates. Python's str.isspace() differs (it includes U+001C-U+001F).
_QT_SPACES = frozenset(
    [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
    + list(range(0x2000, 0x200B))
)
_IPV4_PART = r"([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])"
_IPV4 = re.compile(r"\.".join([_IPV4_PART] * 4))
_MAX_EXPANSION = 100000


def _utf16_units(text: str) -> str:
    """One Python character per UTF-16 code unit, as QString sees the text (astral chars become two)."""
    data = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(unit) for unit in struct.unpack(f"<{len(data) // 2}H", data))


def _from_utf16_units(units: str) -> str:
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _qt_is_digit(unit: str) -> bool:
    # QRegExp's \d is QChar::isDigit(): Unicode decimal digits (category Nd), not only 0-9.
    return unicodedata.category(unit) == "Nd"


def _qt_to_int(digits: str) -> int:
    """QString::toInt() with its failure value 0: ASCII digits only, 32-bit range."""
    if not all("0" <= ch <= "9" for ch in digits):
        return 0
    number = int(digits)
    return number if number <= _INT32[1] else 0


def _mask_length(units: str, pos: int) -> int:
    """Length of the longest match of \\[\\d+:\\S?\\] at ``pos`` (0 when none)."""
    end = len(units)
    if pos >= end or units[pos] != "[":
        return 0
    q = pos + 1
    while q < end and _qt_is_digit(units[q]):
        q += 1
    if q == pos + 1 or q >= end or units[q] != ":":
        return 0
    q += 1
    if q + 1 < end and ord(units[q]) not in _QT_SPACES and units[q + 1] == "]":
        return q + 2 - pos
    if q < end and units[q] == "]":
        return q + 1 - pos
    return 0


def _key_lengths(units: str, pos: int) -> list[int]:
    lengths = []
    for pattern in _PARSER_PATTERNS:
        chunk = units[pos:pos + len(pattern)]
        # Starviewer does not escape the key names, so the "." of IP.n is a wildcard (it matches newlines too).
        if len(chunk) == len(pattern) and all(p == "." or p == chunk[i] for i, p in enumerate(pattern)):
            lengths.append(len(pattern))
    return lengths


def _find_token(units: str, start: int = 0) -> tuple[int, int, int] | None:
    """QRegExp semantics: leftmost, then longest match. Returns (position, key length, mask length)."""
    pos = units.find("%", start)
    while pos != -1:
        best = None
        for key_len in _key_lengths(units, pos):
            mask_len = _mask_length(units, pos + key_len)
            if best is None or key_len + mask_len > best[0] + best[1]:
                best = (key_len, mask_len)
        if best is not None:
            return pos, best[0], best[1]
        pos = units.find("%", pos + 1)
    return None


def _parse_mask(mask: str) -> tuple[int, str | None]:
    colon = mask.index(":")
    width = _qt_to_int(mask[1:colon])
    pad = mask[colon + 1:-1]
    return width, (pad if pad else None)


def _parser_table(hostname: str, ip: str | None, homepath: str) -> dict[str, str]:
    for name, value in (("hostname", hostname), ("homepath", homepath)):
        if not isinstance(value, str):
            raise StarviewerInputError(name, value, "a string")
    table = {"HOSTNAME": hostname, "HOMEPATH": homepath}
    if ip is None:
        table.update({"IP": "N/A", "IP.1": "[N/A]", "IP.2": "[N/A]", "IP.3": "[N/A]", "IP.4": "[N/A]"})
    elif isinstance(ip, str) and _IPV4.fullmatch(ip):
        parts = ip.split(".")
        table.update({"IP": ip, "IP.1": parts[0], "IP.2": parts[1], "IP.3": parts[2], "IP.4": parts[3]})
    else:
        raise StarviewerInputError("ip", ip, "a dotted IPv4 address such as 10.0.0.21, or None when the host "
                                   "resolves to no IPv4 address")
    return {key: _utf16_units(value) for key, value in table.items()}


def ae_title_expr(expr: str, hostname: str, ip: str | None, homepath: str) -> str:
    """Expand ``expr`` exactly as Starviewer 2.0's SettingsParser does on a host with these properties.

    ``hostname`` is the OS host name, ``ip`` the first IPv4 address the host name resolves to (None when
    none: Starviewer then uses N/A and [N/A]), ``homepath`` Qt's home path (forward slashes on Windows).
    """
    if not isinstance(expr, str):
        raise StarviewerInputError("expr", expr, "a string")
    table = _parser_table(hostname, ip, homepath)
    units = _utf16_units(expr)
    passes = 0
    # One replacement per pass, always rescanning from the start: a replacement can complete a new token.
    token = _find_token(units)
    while token is not None:
        pos, key_len, mask_len = token
        value = table.get(units[pos:pos + key_len].replace("%", ""), "")
        if mask_len:
            width, pad = _parse_mask(units[pos + key_len:pos + key_len + mask_len])
            value = value if width >= len(value) else value[len(value) - width:]
            if pad is not None and len(value) < width:
                if width > _MAX_EXPANSION:
                    raise StarviewerInputError("expr", expr, f"mask widths up to {_MAX_EXPANSION} (Starviewer would "
                                               f"try to allocate a string of {width} characters)")
                value = pad * (width - len(value)) + value
        units = units[:pos] + value + units[pos + key_len + mask_len:]
        passes += 1
        if passes > _MAX_EXPANSION or len(units) > _MAX_EXPANSION:
            raise StarviewerInputError("expr", expr, "an expression whose expansion ends (with these host values "
                                       "Starviewer would loop forever)")
        token = _find_token(units)
    return _from_utf16_units(units)


def _expression_tokens(text: str) -> list[tuple[int, int, int]]:
    """Non-overlapping tokens of a raw (unexpanded) expression, left to right."""
    units = _utf16_units(text)
    tokens = []
    token = _find_token(units)
    while token is not None:
        tokens.append(token)
        token = _find_token(units, token[0] + token[1] + token[2])
    return tokens


def expression_variables(expr: str) -> list[str]:
    """Variable names of the tokens Starviewer would replace in raw ``expr`` (first scan), in order."""
    units = _utf16_units(expr)
    tokens = _expression_tokens(expr)
    return [_from_utf16_units(units[pos:pos + key_len].replace("%", "")) for pos, key_len, _kind in tokens]


def _is_ae_char(ch: str) -> bool:
    return " " <= ch <= "~" and ch != "\\"


def _check_local_ae_title(value: object, variable: str) -> str:
    """Validate the raw local AE title as written to PACS/pacsparam/AETitle (expressions unexpanded)."""
    allowed_expr = ("an AE title of 1 to 16 printable ASCII characters without backslash, optionally with "
                    "%HOSTNAME%, %IP%, %IP.1%..%IP.4% or %HOMEPATH% and a [n:c] mask")
    if not isinstance(value, str):
        raise StarviewerInputError(variable, value, allowed_expr)
    if "%USERNAME%" in value:
        raise StarviewerInputError(variable, value, allowed_expr + " (Starviewer 2.0 never expands %USERNAME%; "
                                   "it would stay in the title verbatim)")
    units = _utf16_units(value)
    tokens = _expression_tokens(value)
    if not tokens:
        problems = ae_title_problems(value)
        if problems:
            raise StarviewerInputError(variable, value, allowed_expr + f" (this one {'; '.join(problems)})")
        _check_literal_names(value, value, variable, allowed_expr)
        return value
    literal, minimum, previous_end = [], 0, 0
    for pos, key_len, mask_len in tokens:
        literal.append(units[previous_end:pos])
        name = units[pos:pos + key_len].replace("%", "")
        if name not in _PARSER_KEYS:
            raise StarviewerInputError(variable, value, allowed_expr + f" ({units[pos:pos + key_len]!r} is read as "
                                       "a variable that does not exist and is replaced by nothing)")
        end = pos + key_len + mask_len
        if mask_len:
            width, pad = _parse_mask(units[pos + key_len:end])
            if pad is not None:
                if not _is_ae_char(pad):
                    raise StarviewerInputError(variable, value, allowed_expr + f" (padding character {pad!r} is not "
                                               "allowed in an AE title)")
                minimum += width
        elif re.match(r"^\[[0-9]*:", units[end:]):
            raise StarviewerInputError(variable, value, allowed_expr + f" (the mask after {units[pos:pos + key_len]} "
                                       "is not recognised: n must be digits and c at most one non-space character)")
        previous_end = end
    literal.append(units[previous_end:])
    text = "".join(literal)
    bad = sorted({ch for ch in text if not _is_ae_char(ch)})
    if bad:
        shown = ", ".join(repr(_from_utf16_units(ch)) for ch in bad)
        raise StarviewerInputError(variable, value, allowed_expr + f" (the fixed text contains {shown})")
    _check_literal_names(_from_utf16_units(text), value, variable, allowed_expr)
    if len(text) + minimum > _AE_MAX:
        raise StarviewerInputError(variable, value, allowed_expr + f" (this one expands to at least "
                                   f"{len(text) + minimum} characters)")
    return value


def _check_literal_names(text: str, value: str, variable: str, allowed: str) -> None:
    """Catch %name% spellings that Starviewer leaves verbatim (wrong case, unknown names)."""
    for name in re.findall(r"%([A-Za-z_][A-Za-z0-9_.]*)%", text):
        if name.upper() in _PARSER_KEYS:
            hint = f"variable names are case-sensitive: write %{name.upper()}%"
        else:
            hint = f"%{name}% is not a Starviewer variable and would stay in the title verbatim"
        raise StarviewerInputError(variable, value, allowed + f" ({hint})")


# ---------------------------------------------------------------------------------------------------------------
# PACS list
# ---------------------------------------------------------------------------------------------------------------

PACS_TYPES = ("DIMSE", "WADO", "WADO-URI+DIMSE")
_DIMSE_FIELDS = ("ae_title", "hostname", "port", "query_retrieve_enabled", "store_enabled", "store_port")
_WADO_FIELDS = ("base_uri",)
_COMMON_FIELDS = ("type", "institution", "location", "description", "query_by_default")
_PACS_FIELDS = _COMMON_FIELDS + _DIMSE_FIELDS + _WADO_FIELDS
_HYBRID_SEPARATOR = "\U00012256"
_DEFAULT_SEPARATOR = "\\\\"


def _fields_of(pacs_type: str) -> tuple:
    if pacs_type == "DIMSE":
        return _COMMON_FIELDS + _DIMSE_FIELDS
    if pacs_type == "WADO":
        return _COMMON_FIELDS + _WADO_FIELDS
    return _PACS_FIELDS


def _check_port(value: object, variable: str) -> int:
    allowed = "an integer from 0 to 65535 (or a string of decimal digits)"
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise StarviewerInputError(variable, value, allowed)
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{1,5}", value):
            raise StarviewerInputError(variable, value, allowed)
        value = int(value)
    if not 0 <= value <= 65535:
        raise StarviewerInputError(variable, value, "an integer from 0 to 65535")
    return value


def _check_hostname(value: object, variable: str) -> str:
    allowed = "a host name or IP address (no spaces, control characters or backslashes)"
    if not isinstance(value, str) or value == "":
        raise StarviewerInputError(variable, value, allowed)
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch in "\\" + _HYBRID_SEPARATOR for ch in value):
        raise StarviewerInputError(variable, value, allowed)
    return value


def _check_base_uri(value: object, variable: str) -> str:
    allowed = "an absolute http:// or https:// URL with a host, valid for Qt's QUrl"
    if not isinstance(value, str) or not value:
        raise StarviewerInputError(variable, value, allowed)
    try:
        encoded = qurl_encoded(value)
        key = qurl_string(value)
    except ValueError:
        raise StarviewerInputError(variable, value, allowed) from None
    # Checked on Qt's normalised form (scheme and host lower-cased), which is what Starviewer stores.
    match = re.match(r"^https?://([^/?#]*)", encoded)
    if match is None:
        raise StarviewerInputError(variable, value, allowed)
    authority = match.group(1)
    if "@" in authority:
        # The key in defaultPACSListToQuery2 and the INI/registry value would carry the password in clear.
        raise StarviewerInputError(variable, value, allowed + ", without a user name or password")
    host = authority[:authority.index("]") + 1] if authority.startswith("[") else authority.split(":")[0]
    if host in ("", "[]"):
        raise StarviewerInputError(variable, value, allowed)
    if _DEFAULT_SEPARATOR in key or _HYBRID_SEPARATOR in key:
        raise StarviewerInputError(variable, value, allowed + " (without two consecutive backslashes)")
    return value


def _check_text(value: object, variable: str) -> str:
    return _coerce_str(value, variable, "a string (free text)")


def normalize_pacs(items: object, variable: str = "starviewer_pacs") -> list[dict]:
    """Validate the PACS list and apply defaults; every field is present, None where the type has no such field.

    Ports may be given as ints or as strings of decimal digits (templating often yields strings); bools, floats
    and anything else are refused. A field set to null counts as not given.
    """
    if not isinstance(items, (list, tuple)):
        raise StarviewerInputError(variable, items, "a list of PACS dictionaries")
    result = []
    for index, item in enumerate(items):
        where = f"{variable}[{index}]"
        result.append(_normalize_pacs_item(item, where))
    _check_duplicates(result, variable)
    return result


def _normalize_pacs_item(item: object, where: str) -> dict:
    if not isinstance(item, dict):
        raise StarviewerInputError(where, item, "a dictionary with type, ae_title, hostname, port, base_uri, ...")
    # null means "not given", as for the role variables themselves (handy when items are built by templates).
    item = {key: value for key, value in item.items() if value is not None}
    for key in item:
        if key not in _PACS_FIELDS:
            hint = _suggest(key, list(_PACS_FIELDS)) if isinstance(key, str) else ""
            raise StarviewerInputError(f"{where}.{key}", item[key],
                                       f"one of the fields {', '.join(_PACS_FIELDS)}{hint}")
    pacs_type = item.get("type", "DIMSE")
    if pacs_type not in PACS_TYPES:
        raise StarviewerInputError(where + ".type", pacs_type, "DIMSE, WADO or WADO-URI+DIMSE (exact case; Starviewer "
                                   "hides entries of any other type and drops them on the next edit)")
    fields = _fields_of(pacs_type)
    for key in item:
        if key not in fields:
            raise StarviewerInputError(f"{where}.{key}", item[key], f"no {key} on a {pacs_type} PACS (Starviewer "
                                       "ignores it; remove it)")
    out = dict.fromkeys(_PACS_FIELDS)
    out["type"] = pacs_type
    for key in ("institution", "location", "description"):
        out[key] = _check_text(item.get(key, ""), f"{where}.{key}")
    out["query_by_default"] = _coerce_bool(item.get("query_by_default", False), where + ".query_by_default")
    if pacs_type in ("DIMSE", "WADO-URI+DIMSE"):
        for key in ("ae_title", "hostname", "port"):
            if item.get(key) is None:
                raise StarviewerInputError(f"{where}.{key}", None, f"a value: {key} is required for a {pacs_type} PACS")
        out["ae_title"] = _check_ae_title(item["ae_title"], where + ".ae_title")
        out["hostname"] = _check_hostname(item["hostname"], where + ".hostname")
        out["port"] = _check_port(item["port"], where + ".port")
        out["query_retrieve_enabled"] = _coerce_bool(item.get("query_retrieve_enabled", True),
                                                     where + ".query_retrieve_enabled")
        out["store_enabled"] = _coerce_bool(item.get("store_enabled", True), where + ".store_enabled")
        store_port = item.get("store_port")
        out["store_port"] = out["port"] if store_port is None else _check_port(store_port, where + ".store_port")
        if not out["query_retrieve_enabled"] and not out["store_enabled"]:
            raise StarviewerInputError(where + ".store_enabled", False, "true when query_retrieve_enabled is false "
                                       "(Starviewer hides a PACS with no service enabled)")
    if pacs_type in ("WADO", "WADO-URI+DIMSE"):
        if item.get("base_uri") is None:
            raise StarviewerInputError(where + ".base_uri", None, f"a URL: base_uri is required for a {pacs_type} PACS")
        out["base_uri"] = _check_base_uri(item["base_uri"], where + ".base_uri")
    return out


def _identity(pacs: dict) -> tuple:
    """What Starviewer's isSamePacsDevice compares (QUrl equality is compared on the encoded form)."""
    uri = qurl_encoded(pacs["base_uri"]) if pacs["base_uri"] is not None else None
    if pacs["type"] == "DIMSE":
        return ("DIMSE", pacs["ae_title"], pacs["hostname"], pacs["port"])
    if pacs["type"] == "WADO":
        return ("WADO", uri)
    return ("WADO-URI+DIMSE", pacs["ae_title"], pacs["hostname"], pacs["port"], uri)


def _check_duplicates(pacs: list[dict], variable: str) -> None:
    seen: dict = {}
    for index, item in enumerate(pacs):
        identity = _identity(item)
        if identity in seen:
            first = seen[identity]
            what = "base URI" if item["type"] == "WADO" else (
                "AE title, host and port" if item["type"] == "DIMSE" else "AE title, host, port and base URI")
            raise StarviewerInputError(f"{variable}[{index}]", pacs_key(item),
                                       f"a PACS different from {variable}[{first}]: same type and {what} (Starviewer "
                                       "refuses the second one)")
        seen[identity] = index
    # Different PACS can still share a default-list key (e.g. AE "AB" + host "Cx..." and AE "ABC" + host "x...");
    # Starviewer would then treat both as default when either is.
    by_key: dict = {}
    for index, item in enumerate(pacs):
        key = pacs_key(item)
        if key in by_key and bool(pacs[by_key[key]]["query_by_default"]) != bool(item["query_by_default"]):
            raise StarviewerInputError(f"{variable}[{index}]", key,
                                       f"a PACS whose default-list key differs from {variable}[{by_key[key]}]'s, or "
                                       "the same query_by_default for both (Starviewer cannot tell them apart)")
        by_key.setdefault(key, index)


def pacs_array(pacs: list[dict]) -> list[dict]:
    """PacsList items with the fields and Qt types Starviewer 2.0 writes (IDs renumbered 0..n-1)."""
    result = []
    for index, item in enumerate(pacs):
        entry: dict = {"ID": str(index), "Type": item["type"]}
        if item["type"] in ("DIMSE", "WADO-URI+DIMSE"):
            entry.update({
                "AETitle": item["ae_title"],
                "PacsHostname": item["hostname"],
                "QueryRetrieveServiceEnabled": bool(item["query_retrieve_enabled"]),
                "PacsPort": int(item["port"]),
                "StoreServiceEnabled": bool(item["store_enabled"]),
                "StoreServicePort": int(item["store_port"]),
            })
        if item["type"] in ("WADO", "WADO-URI+DIMSE"):
            entry["BaseUri"] = QtUrl(item["base_uri"])
        entry.update({"Institution": item["institution"], "Location": item["location"],
                      "Description": item["description"]})
        result.append(entry)
    return result


def pacs_key(item: dict) -> str:
    """The key naming this PACS in PACS/defaultPACSListToQuery2 (PacsDevice::getKeyName)."""
    dimse = f"{item.get('ae_title')}{item.get('hostname')}:{int(item.get('port') or 0)}"
    if item["type"] == "DIMSE":
        return dimse
    uri = qurl_string(item["base_uri"])
    if item["type"] == "WADO":
        return uri
    return uri + _HYBRID_SEPARATOR + dimse


def default_pacs_list(pacs: list[dict]) -> str:
    """Raw PACS/defaultPACSListToQuery2 value: every key followed by two backslashes, in list order."""
    keys: list[str] = []
    for item in pacs:
        if item.get("query_by_default"):
            key = pacs_key(item)
            if key not in keys:
                keys.append(key)
    return "".join(key + _DEFAULT_SEPARATOR for key in keys)


# ---------------------------------------------------------------------------------------------------------------
# External applications
# ---------------------------------------------------------------------------------------------------------------

_EXTERNAL_FIELDS = ("name", "type", "url")


def normalize_external_applications(items: object, variable: str = "starviewer_external_applications") -> list[dict]:
    """Validated ExternalApplications items: {name, type, url}, all strings."""
    if not isinstance(items, (list, tuple)):
        raise StarviewerInputError(variable, items, "a list of {name, type, url} dictionaries")
    result = []
    for index, item in enumerate(items):
        where = f"{variable}[{index}]"
        if not isinstance(item, dict):
            raise StarviewerInputError(where, item, "a dictionary with name, type and url")
        for key in item:
            if key not in _EXTERNAL_FIELDS:
                hint = _suggest(key, list(_EXTERNAL_FIELDS)) if isinstance(key, str) else ""
                raise StarviewerInputError(f"{where}.{key}", item[key], "name, type or url" + hint)
        for key in _EXTERNAL_FIELDS:
            if key not in item or item[key] is None:
                raise StarviewerInputError(f"{where}.{key}", None, "a value: name, type and url are required")
        if item["type"] not in ("url", "cmd"):
            # Starviewer stops reading the list at the first unknown type, losing every later item as well.
            raise StarviewerInputError(where + ".type", item["type"], "url or cmd (exact, lower case)")
        name = _check_text(item["name"], where + ".name")
        url = _check_text(item["url"], where + ".url")
        if not name.strip():
            raise StarviewerInputError(where + ".name", item["name"], "a non-empty name shown in the menu")
        if not url.strip():
            raise StarviewerInputError(where + ".url", item["url"], "a non-empty URL or command")
        result.append({"name": name, "type": item["type"], "url": url})
    return result


# ---------------------------------------------------------------------------------------------------------------
# settingsAccessLevel.ini
# ---------------------------------------------------------------------------------------------------------------


def access_level_ini(system_keys: object, variable: str = "starviewer_system_settings") -> str:
    """Text of settingsAccessLevel.ini marking ``system_keys`` as system level, laid out as Qt 5 writes it.

    ``system_keys`` is a list of keys, or a dict key -> "system"/"user" (only system entries are written).
    """
    if isinstance(system_keys, dict):
        keys = []
        for key, level in system_keys.items():
            if level not in ("system", "user"):
                raise StarviewerInputError(f"{variable}[{key!r}]", level, "system or user (exact, lower case)")
            if level == "system":
                keys.append(key)
    elif isinstance(system_keys, (list, tuple)):
        keys = list(system_keys)
    else:
        raise StarviewerInputError(variable, system_keys, "a list of setting keys")
    # Qt groups keys by the text before the first "/" ("" is [General]) and sorts sections and keys on the
    # unescaped names, comparing UTF-16 code units.
    sections: dict[str, dict[str, str]] = {"": {"settingsAccessLevelVersion": "1.0"}}
    for index, key in enumerate(keys):
        where = f"{variable}[{key!r}]" if isinstance(system_keys, dict) else f"{variable}[{index}]"
        _check_key(key, where)
        section, _sep, rest = key.partition("/")
        if not rest:
            section, rest = "", key
        sections.setdefault(section, {})[rest] = "system"
    blocks = []
    for section in sorted(sections, key=_utf16_units):
        if section == "":
            header = "[General]"
        elif section.lower() == "general":
            header = "[%General]"
        else:
            header = f"[{escape_key(section)}]"
        entries = sections[section]
        lines = [header] + [f"{escape_key(name)}={format_value(entries[name])}"
                            for name in sorted(entries, key=_utf16_units)]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


# ---------------------------------------------------------------------------------------------------------------
# All public variables together
# ---------------------------------------------------------------------------------------------------------------

_CONFIG_NAMES = (
    "starviewer_pacs",
    "starviewer_local_ae_title",
    "starviewer_local_port",
    "starviewer_external_applications",
    "starviewer_settings",
    "starviewer_settings_remove",
)


def build_settings(config: dict) -> dict:
    """Public variables -> {"set": {key: value}, "remove": [key], "arrays": {name: [item]}}.

    A variable that is absent or None is not managed. Raises StarviewerInputError for the first problem.
    """
    if not isinstance(config, dict):
        raise StarviewerInputError("config", config, "a dictionary of starviewer_* variables")
    for name in config:
        if name not in _CONFIG_NAMES:
            hint = _suggest(name, list(_CONFIG_NAMES)) if isinstance(name, str) else ""
            raise StarviewerInputError(str(name), config[name],
                                       f"one of the variables {', '.join(_CONFIG_NAMES)}{hint}")
    values: dict = {}
    arrays: dict = {}

    pacs = config.get("starviewer_pacs")
    if pacs is not None:
        normalized = normalize_pacs(pacs, "starviewer_pacs")
        arrays["PacsList"] = pacs_array(normalized)
        values["PACS/defaultPACSListToQuery2"] = default_pacs_list(normalized)
        # Starviewer re-migrates the 1.x key whenever the 2.0 one is empty, which would resurrect old defaults.
        values["PACS/defaultPACSListToQuery"] = ""

    ae_title = config.get("starviewer_local_ae_title")
    if ae_title is not None:
        values["PACS/pacsparam/AETitle"] = _check_local_ae_title(ae_title, "starviewer_local_ae_title")

    port = config.get("starviewer_local_port")
    if port is not None:
        # The GUI stores the local port as text (REG_SZ on Windows), so do the same.
        values["PACS/pacsparam/localPort"] = str(_check_port(port, "starviewer_local_port"))

    apps = config.get("starviewer_external_applications")
    if apps is not None:
        arrays["ExternalApplications"] = normalize_external_applications(apps, "starviewer_external_applications")

    settings = config.get("starviewer_settings")
    if settings is not None:
        if not isinstance(settings, dict):
            raise StarviewerInputError("starviewer_settings", settings, "a dictionary of setting key -> value")
        for key, value in settings.items():
            where = f"starviewer_settings[{key!r}]"
            if key in _MANAGED_KEYS:
                raise StarviewerInputError(where, value,
                                           f"a key not managed elsewhere; use {_MANAGED_KEYS[key]} instead")
            values[key] = coerce_setting(key, value, where)

    remove = config.get("starviewer_settings_remove")
    removals: list[str] = []
    if remove is not None:
        if not isinstance(remove, (list, tuple)):
            raise StarviewerInputError("starviewer_settings_remove", remove, "a list of setting keys")
        for index, key in enumerate(remove):
            where = f"starviewer_settings_remove[{index}]"
            if not (isinstance(key, str) and (setting_type(key) is not None or key in _STATE_KEYS)):
                raise _unknown_key(key, where, _STATE_KEYS)
            if key in values or key in arrays:
                owner = "starviewer_settings" if settings and key in settings else _MANAGED_KEYS.get(key, "")
                raise StarviewerInputError(where, key, f"a key that is not also set (it is set by {owner})")
            if key not in removals:
                removals.append(key)

    return {"set": values, "remove": removals, "arrays": arrays}
