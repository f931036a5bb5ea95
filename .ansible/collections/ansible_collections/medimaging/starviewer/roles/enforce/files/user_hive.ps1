# Export a user's Software\GILab key, or import a deletion .reg into it, loading the user's NTUSER.DAT under
# HKU\<Mount> when the user is not logged on (run by ansible.windows.win_powershell; see tasks/windows.yml).
# An import is skipped, and reported, while the user's Starviewer runs: it would write its values back on exit.
[CmdletBinding(SupportsShouldProcess)]
param(
    [string]$Hive, [string]$Mount, [string]$HiveFile, [string]$Sid, [string]$ExportFile, [string]$ImportFile,
    [string]$ImportBase64
)
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$result = [ordered]@{ user = $Sid; outcome = 'unchanged'; export = '' }
if ($ImportBase64 -and $Sid) {
    $running = @(Get-CimInstance -ClassName Win32_Process -Filter "Name = 'starviewer.exe'" | Where-Object {
            (Invoke-CimMethod -InputObject $_ -MethodName GetOwnerSid).Sid -eq $Sid })
    if ($running.Count -gt 0) {
        $result.outcome = 'skipped-running'
        $Ansible.Result = $result
        return
    }
}
$loaded = $false
try {
    if ($Mount -and -not (Test-Path -LiteralPath "Registry::HKEY_USERS\$Mount")) {
        & reg.exe load "HKU\$Mount" $HiveFile | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "reg load of $HiveFile failed ($LASTEXITCODE)" }
        $loaded = $true
    }
    if ($ExportFile) {
        & reg.exe export "$Hive\Software\GILab" $ExportFile /y 2>&1 | Out-Null
        # Exit code 1: the user has no GILab key at all.
        if ($LASTEXITCODE -eq 0) { $result.export = [Convert]::ToBase64String([IO.File]::ReadAllBytes($ExportFile)) }
    }
    if ($ImportBase64) {
        $result.outcome = $(if ($Ansible.CheckMode) { 'would-enforce' } else { 'enforced' })
        $Ansible.Changed = $true
        if (-not $Ansible.CheckMode) {
            [IO.File]::WriteAllBytes($ImportFile, [Convert]::FromBase64String($ImportBase64))
            & reg.exe import $ImportFile 2>&1 | Out-Null
            if ($LASTEXITCODE -ne 0) { throw "reg import failed ($LASTEXITCODE)" }
        }
    }
}
finally {
    if ($loaded) {
        # Handles PowerShell keeps on the hive make reg unload fail with "access denied".
        [GC]::Collect()
        [GC]::WaitForPendingFinalizers()
        & reg.exe unload "HKU\$Mount" | Out-Null
    }
}
$Ansible.Result = $result
