// glibc headers that Swift's Glibc module leaves out. Declarations only, no logic:
// epoll and eventfd for ECMPHealth's TCP check reactor; malloc.h (mallopt,
// malloc_trim) for the daemon's memory settings; prctl for dropping ambient
// capabilities (variadic, so Swift cannot call it: one inline wrapper).
#pragma once
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

static inline int ecmpd_clear_ambient_capabilities(void) {
    return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}
