# Clear-VmkfstoolsWrapperLog / Register-LogRotationCron pre-check: which wrapper generation is
# installed (its payload's interpreter and SCRIPT_VERSION lines: no esxcli call, which takes
# seconds on a real host), and is there a log file to act on? $1: the log path of the cmdlet.
# Sections: @@payload (wrapper_payload, one field of field.sh), @@log (bytes; -1: no such file).
# @include field.sh
# @include wrapper-payload.sh
# @include filesize.sh
echo @@payload; field "$(wrapper_payload)"; echo "$field"
echo @@log; if [ -f "$1" ]; then filesize "$1"; else echo -1; fi
echo @@end
