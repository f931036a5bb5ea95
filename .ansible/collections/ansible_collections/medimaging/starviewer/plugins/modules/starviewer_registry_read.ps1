#!powershell

# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# Reads whole registry trees in one call. Deliberately small: it is not run by the collection's tests (no Windows
# host there); all decisions are taken on the controller from what it returns.

$spec = @{
    options = @{
        hive = @{ type = 'str'; default = 'HKLM'; choices = @('HKLM') }
        view = @{ type = 'str'; default = '64'; choices = @('64', '32') }
        paths = @{ type = 'list'; elements = 'str'; required = $true }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

# Explicit view: a 64-bit Starviewer reads the 64-bit view, whatever the bitness of this PowerShell.
$view = [Microsoft.Win32.RegistryView]::Registry64
if ($module.Params.view -eq '32') {
    $view = [Microsoft.Win32.RegistryView]::Registry32
}
$base = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, $view)

$kindNames = @{
    String = 'REG_SZ'
    ExpandString = 'REG_EXPAND_SZ'
    Binary = 'REG_BINARY'
    DWord = 'REG_DWORD'
    MultiString = 'REG_MULTI_SZ'
    QWord = 'REG_QWORD'
    None = 'REG_NONE'
    Unknown = 'REG_UNKNOWN'
}

Function Get-ValueEntry {
    param([Microsoft.Win32.RegistryKey]$Key, [string]$Name)

    try {
        $kind = $Key.GetValueKind($Name)
    }
    catch {
        $kind = [Microsoft.Win32.RegistryValueKind]::String
    }
    # Unexpanded REG_EXPAND_SZ text: comparing the expanded text would report a change on every run.
    $raw = $Key.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    $kindName = $kindNames[$kind.ToString()]
    if ($kindName -in @('REG_SZ', 'REG_EXPAND_SZ')) {
        $data = [string]$raw
    }
    elseif ($kindName -eq 'REG_DWORD') {
        # .NET hands back a signed Int32; the controller compares unsigned.
        $data = [BitConverter]::ToUInt32([BitConverter]::GetBytes([int32]$raw), 0)
    }
    elseif ($kindName -eq 'REG_QWORD') {
        $data = [BitConverter]::ToUInt64([BitConverter]::GetBytes([int64]$raw), 0)
    }
    elseif ($kindName -eq 'REG_MULTI_SZ') {
        $data = [string[]]$raw
    }
    else {
        if ($null -eq $raw) {
            $raw = [byte[]]@()
        }
        $data = [Convert]::ToBase64String([byte[]]$raw)
    }
    @{ name = $Name; type = $kindName; data = $data }
}

Function Add-Tree {
    param([Microsoft.Win32.RegistryKey]$Key, [string]$Relative, [System.Collections.Generic.List[Object]]$Keys)

    $values = [System.Collections.Generic.List[Object]]@()
    foreach ($name in $Key.GetValueNames()) {
        $values.Add((Get-ValueEntry -Key $Key -Name $name))
    }
    $Keys.Add(@{ key = $Relative; values = $values })
    foreach ($child in $Key.GetSubKeyNames()) {
        $childPath = $child
        if ($Relative) {
            $childPath = "$Relative\$child"
        }
        $sub = $Key.OpenSubKey($child)
        try {
            Add-Tree -Key $sub -Relative $childPath -Keys $Keys
        }
        finally {
            $sub.Dispose()
        }
    }
}

$trees = [System.Collections.Generic.List[Object]]@()
foreach ($path in $module.Params.paths) {
    $keys = [System.Collections.Generic.List[Object]]@()
    $key = $base.OpenSubKey($path.Trim('\'))
    if ($null -eq $key) {
        $trees.Add(@{ path = $path; exists = $false; keys = $keys })
        continue
    }
    try {
        Add-Tree -Key $key -Relative '' -Keys $keys
    }
    finally {
        $key.Dispose()
    }
    $trees.Add(@{ path = $path; exists = $true; keys = $keys })
}

$module.Result.trees = $trees
$module.ExitJson()
