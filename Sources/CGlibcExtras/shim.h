// glibc headers that Swift's Glibc module leaves out. Declarations only, no logic:
// epoll and eventfd for ECMPHealth's TCP check reactor; malloc.h (mallopt,
// malloc_trim) for the daemon's memory settings.
#pragma once
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
