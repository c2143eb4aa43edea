module labgrader.local/toolchain/seccomp

go 1.26.0
