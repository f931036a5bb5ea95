#!powershell

# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# Applies operations computed on the controller, in order, in one call. Deliberately small: it is not run by the
# collection's tests (no Windows host there); the operations themselves are tested through wine.

$spec = @{
    options = @{
        hive = @{ type = 'str'; default = 'HKLM'; choices = @('HKLM') }
        view = @{ type = 'str'; default = '64'; choices = @('64', '32') }
        path = @{ type = 'str'; required = $true }
        operations = @{
            type = 'list'
            elements = 'dict'
            required = $true
            options = @{
                action = @{ type = 'str'; required = $true; choices = @('create_key', 'set_value', 'delete_value', 'delete_key') }
                key = @{ type = 'str'; required = $true }
                name = @{ type = 'str' }
                type = @{ type = 'str'; choices = @('REG_SZ', 'REG_EXPAND_SZ', 'REG_BINARY', 'REG_DWORD', 'REG_MULTI_SZ', 'REG_QWORD') }
                data = @{ type = 'raw' }
            }
        }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$root = $module.Params.path.Trim('\')
if (-not $root) {
    $module.FailJson("path must name a key below the hive, got '$($module.Params.path)'")
}
$view = [Microsoft.Win32.RegistryView]::Registry64
if ($module.Params.view -eq '32') {
    $view = [Microsoft.Win32.RegistryView]::Registry32
}
$base = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, $view)
$kinds = @{
    REG_SZ = [Microsoft.Win32.RegistryValueKind]::String
    REG_EXPAND_SZ = [Microsoft.Win32.RegistryValueKind]::ExpandString
    REG_BINARY = [Microsoft.Win32.RegistryValueKind]::Binary
    REG_DWORD = [Microsoft.Win32.RegistryValueKind]::DWord
    REG_MULTI_SZ = [Microsoft.Win32.RegistryValueKind]::MultiString
    REG_QWORD = [Microsoft.Win32.RegistryValueKind]::QWord
}

# Check everything before changing anything.
foreach ($op in $module.Params.operations) {
    if ($op.action -eq 'delete_key' -and -not $op.key.Trim('\')) {
        $module.FailJson("refusing to delete the root key $root itself")
    }
    if ($op.action -in @('set_value', 'delete_value') -and $null -eq $op.name) {
        $module.FailJson("operation $($op.action) on '$($op.key)' needs a name ('' is the default value)")
    }
    if ($op.action -eq 'set_value' -and $null -eq $op.type) {
        $module.FailJson("operation set_value on '$($op.key)\$($op.name)' needs a type")
    }
}

$module.Result.changed = $module.Params.operations.Count -gt 0
if ($module.CheckMode) {
    $module.ExitJson()
}

$done = 0
foreach ($op in $module.Params.operations) {
    $full = $root
    if ($op.key.Trim('\')) {
        $full = "$root\$($op.key.Trim('\'))"
    }
    if ($op.action -eq 'create_key') {
        $base.CreateSubKey($full).Dispose()
    }
    elseif ($op.action -eq 'set_value') {
        if ($op.type -in @('REG_SZ', 'REG_EXPAND_SZ')) {
            $value = [string]$op.data
        }
        elseif ($op.type -eq 'REG_DWORD') {
            # SetValue wants an Int32 with the same 32 bits as the unsigned number sent.
            $value = [BitConverter]::ToInt32([BitConverter]::GetBytes([UInt32]$op.data), 0)
        }
        elseif ($op.type -eq 'REG_QWORD') {
            $value = [BitConverter]::ToInt64([BitConverter]::GetBytes([UInt64]$op.data), 0)
        }
        elseif ($op.type -eq 'REG_MULTI_SZ') {
            $value = [string[]]@($op.data)
        }
        else {
            $value = [Convert]::FromBase64String([string]$op.data)
        }
        $key = $base.CreateSubKey($full)
        try {
            $key.SetValue($op.name, $value, $kinds[$op.type])
        }
        finally {
            $key.Dispose()
        }
    }
    elseif ($op.action -eq 'delete_value') {
        $key = $base.OpenSubKey($full, $true)
        if ($null -ne $key) {
            try {
                $key.DeleteValue($op.name, $false)
            }
            finally {
                $key.Dispose()
            }
        }
    }
    else {
        $base.DeleteSubKeyTree($full, $false)
    }
    $done++
}

$module.Result.applied = $done
$module.ExitJson()
