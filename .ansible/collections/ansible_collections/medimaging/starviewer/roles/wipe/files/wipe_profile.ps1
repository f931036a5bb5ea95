# Wipe one Windows profile's Starviewer data (run by ansible.windows.win_powershell; see tasks/windows.yml).
# Returns the same record as the starviewer_wipe module on Linux. Junctions and symbolic links inside the data
# folder are removed as links; their targets are never entered. Nothing is changed in check mode.
[CmdletBinding(SupportsShouldProcess)]
param(
    [string]$User, [string]$Sid, [string]$HomeDir, [string]$DataDir, [string]$Hive, [string]$Mount,
    [string]$HiveFile, [string]$RegBase64, [string]$RegFile, [bool]$StopRunning, [int]$StopTimeout
)
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$check = [bool]$Ansible.CheckMode
$record = [ordered]@{
    user = $User; uid = $Sid; home = $HomeDir; time = ''; outcome = ''; paths = @(); refused = @(); kept = @()
    errors = @(); processes = @(); stopped = @(); files = 0; bytes = 0; dirs = 0; summary = ''
}
$reparse = [IO.FileAttributes]::ReparsePoint

function Now { [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ') }

function Get-Tally([IO.DirectoryInfo]$Folder, [bool]$Delete, $Tally) {
    $complete = $true
    foreach ($entry in $Folder.EnumerateFileSystemInfos()) {
        try {
            if ($entry.Attributes -band $reparse) {
                # A junction or link: deleting it without recursion removes the link, never its target.
                if ($Delete) {
                    if ($entry -is [IO.DirectoryInfo]) { [IO.Directory]::Delete($entry.FullName, $false) }
                    else { [IO.File]::Delete($entry.FullName) }
                }
                $Tally.files++
            }
            elseif ($entry -is [IO.DirectoryInfo]) {
                if (Get-Tally $entry $Delete $Tally) {
                    if ($Delete) { [IO.Directory]::Delete($entry.FullName, $false) }
                    $Tally.dirs++
                }
                else { $complete = $false }
            }
            else {
                if ($Delete) {
                    if ($entry.Attributes -band [IO.FileAttributes]::ReadOnly) {
                        $entry.Attributes = $entry.Attributes -band -bnot [IO.FileAttributes]::ReadOnly
                    }
                    [IO.File]::Delete($entry.FullName)
                }
                $Tally.files++
                $Tally.bytes += $entry.Length
            }
        }
        catch {
            $Tally.errors += @{ path = $entry.FullName; error = $_.Exception.Message }
            $complete = $false
        }
    }
    return $complete
}

# Running instances of this user: ask them to close (WM_CLOSE), then terminate after the timeout.
$procs = @(Get-CimInstance -ClassName Win32_Process -Filter "Name = 'starviewer.exe'" | Where-Object {
        (Invoke-CimMethod -InputObject $_ -MethodName GetOwnerSid).Sid -eq $Sid })
$record.processes = @($procs | ForEach-Object { @{ pid = [int]$_.ProcessId; cmdline = [string]$_.CommandLine } })
if ($procs.Count -gt 0) {
    if (-not $StopRunning) {
        $record.time = Now
        $record.outcome = 'skipped-running'
        $record.summary = "$User`: skipped-running (Starviewer running: pids $(($procs | ForEach-Object ProcessId) -join ', '))"
        $Ansible.Result = $record
        return
    }
    if (-not $check) {
        $ids = @($procs | ForEach-Object { [int]$_.ProcessId })
        foreach ($id in $ids) { try { [void](Get-Process -Id $id).CloseMainWindow() } catch { } }
        try { Wait-Process -Id $ids -Timeout ([Math]::Max($StopTimeout, 1)) -ErrorAction SilentlyContinue } catch { }
        foreach ($id in $ids) { Stop-Process -Id $id -Force -ErrorAction SilentlyContinue }
        Start-Sleep -Seconds 1
        $still = @($ids | Where-Object { Get-Process -Id $_ -ErrorAction SilentlyContinue })
        $record.stopped = @($ids | Where-Object { $still -notcontains $_ })
        if ($still.Count -gt 0) {
            $record.errors += @{ path = $null; error = "Starviewer (pids $($still -join ', ')) did not stop" }
            $record.time = Now
            $record.outcome = 'skipped-running'
            $record.summary = "$User`: skipped-running (could not stop pids $($still -join ', '))"
            $Ansible.Result = $record
            return
        }
        $Ansible.Changed = $true
    }
}

# The data folder.
if (Test-Path -LiteralPath $DataDir) {
    $top = Get-Item -LiteralPath $DataDir -Force
    if ($top.Attributes -band $reparse) {
        $record.refused += @{ path = $DataDir; kind = 'data'; reason = "is a junction or symbolic link to $($top.Target); neither the link nor its target is deleted" }
    }
    elseif ($top -is [IO.DirectoryInfo]) {
        $tally = @{ files = 0; bytes = [long]0; dirs = 0; errors = @() }
        $complete = Get-Tally $top (-not $check) $tally
        if ($complete) {
            if (-not $check) { [IO.Directory]::Delete($top.FullName, $false) }
            $tally.dirs++
        }
        $record.errors += $tally.errors
        $record.paths += @{ path = $DataDir; kind = 'data'; files = $tally.files; bytes = $tally.bytes; dirs = $tally.dirs; deleted = (-not $check -and $complete) }
    }
}

# The configuration key: the user's hive is loaded from NTUSER.DAT when the user is not logged on.
if ($RegBase64) {
    $loaded = $false
    try {
        if ($Mount -and -not (Test-Path -LiteralPath "Registry::HKEY_USERS\$Mount")) {
            & reg.exe load "HKU\$Mount" $HiveFile | Out-Null
            if ($LASTEXITCODE -ne 0) { throw "reg load of $HiveFile failed ($LASTEXITCODE)" }
            $loaded = $true
        }
        $key = "Registry::$Hive\Software\GILab\Starviewer"
        if (Test-Path -LiteralPath $key) {
            $record.paths += @{ path = "$Hive\Software\GILab\Starviewer"; kind = 'config'; files = 0; bytes = 0; dirs = 1; deleted = (-not $check) }
            if (-not $check) {
                [IO.File]::WriteAllBytes($RegFile, [Convert]::FromBase64String($RegBase64))
                & reg.exe import $RegFile 2>&1 | Out-Null
                if ($LASTEXITCODE -ne 0) { throw "reg import failed ($LASTEXITCODE)" }
            }
        }
    }
    catch {
        $record.errors += @{ path = "$Hive\Software\GILab\Starviewer"; error = $_.Exception.Message }
    }
    finally {
        if ($loaded) {
            # Handles PowerShell keeps on the hive make reg unload fail with "access denied".
            [GC]::Collect()
            [GC]::WaitForPendingFinalizers()
            & reg.exe unload "HKU\$Mount" | Out-Null
            if ($LASTEXITCODE -ne 0) { $record.errors += @{ path = "HKU\$Mount"; error = "reg unload failed ($LASTEXITCODE)" } }
        }
    }
}

foreach ($path in $record.paths) {
    foreach ($total in 'files', 'bytes', 'dirs') { $record[$total] += $path[$total] }
}
$found = $record.files + $record.dirs -gt 0
if ($record.errors.Count -gt 0) { $record.outcome = 'error' }
elseif ($record.refused.Count -gt 0) { $record.outcome = $(if ($found) { 'partial' } else { 'refused' }) }
elseif ($found) { $record.outcome = $(if ($check) { 'would-wipe' } else { 'wiped' }) }
else { $record.outcome = 'nothing' }
if ($found) { $Ansible.Changed = $true }
$record.time = Now
$record.summary = "$User`: $($record.outcome), $($record.files) files, $($record.bytes) bytes, $($record.dirs) folders"
$Ansible.Result = $record
