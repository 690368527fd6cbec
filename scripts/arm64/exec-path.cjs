// Preloaded (--require) into the arm64 Node under qemu by scripts/check-arm64.mjs. Without
// binfmt_misc the host kernel cannot exec an arm64 binary, so a child spawned with
// process.execPath (node-llama-cpp forks one to test its backend before loading it) would fail
// with ENOEXEC. Point execPath at a wrapper that starts the same arm64 Node under qemu: what
// binfmt would do, for this one binary.
if (process.env.EDGEGOV_ARM64_NODE) process.execPath = process.env.EDGEGOV_ARM64_NODE;
