# Clear-VmkfstoolsWrapperLog -ArchivePath: which of the tools the archive uses the host has (one a
# line: gzip to compress on the host, sha256sum or md5sum to verify what arrived).
command -v gzip >/dev/null 2>&1 && echo gzip
command -v sha256sum >/dev/null 2>&1 && echo sha256sum
command -v md5sum >/dev/null 2>&1 && echo md5sum
true
