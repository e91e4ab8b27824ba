// glibc headers that Swift's Glibc module leaves out, and the one helper
// for calls Swift cannot make: epoll and eventfd for ECMPHealth's TCP
// check reactor; malloc.h (mallopt, malloc_trim) for the daemon's memory
// settings; prctl and capset (variadic, or without a glibc wrapper) for
// exec checks that must not inherit the daemon's capabilities; prlimit
// (declared only under _GNU_SOURCE) to bound what a child may write.
#pragma once
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

// Empties the calling thread's inheritable and ambient capability sets
// (its permitted and effective sets stay): a program it starts from now on
// gains no capability across execve unless the program's file grants it.
// 0, or -1 with errno set.
static inline int ecmpd_clear_inherited_capabilities(void) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) data[i].inheritable = 0;
    if (syscall(SYS_capset, &header, data) != 0) return -1;
    return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

// Sets another process's RLIMIT_FSIZE (soft and hard) to `bytes`: the most
// any file it writes may grow to. 0, or -1 with errno set.
static inline int ecmpd_limit_file_size(pid_t pid, unsigned long long bytes) {
    struct rlimit limit = { bytes, bytes };
    return (int)syscall(SYS_prlimit64, pid, RLIMIT_FSIZE, &limit, (struct rlimit *)0);
}
