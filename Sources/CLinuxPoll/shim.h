// epoll and eventfd for ECMPHealth's TCP check reactor: Swift's Glibc module
// does not include these headers. Declarations only, no logic.
#pragma once
#include <sys/epoll.h>
#include <sys/eventfd.h>
