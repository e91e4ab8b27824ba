import CNetlink
import Glibc

/// An rtnetlink socket subscribed to route, nexthop-object and link events,
/// plus a pipe that wakes a waiter from another thread. What an event
/// says is not read: the watcher re-reads the route it cares about. A
/// socket overflow (events lost) is told apart, so that an owner that
/// acts on more than one route can re-read everything.
final class RouteEventSocket {
    enum Wake {
        case events
        /// Events came, and the kernel dropped some (ENOBUFS).
        case overflowed
        case timedOut
        case interrupted
    }

    private let socket: OpaquePointer
    /// The pipe's read end, polled beside the socket, and its write end.
    private let wakeReader: Int32
    private let wakeWriter: Int32

    /// IPv4 routes, nexthop objects (a group losing a member changes the
    /// route without an RTM_NEWROUTE), and links (IPv4 sends no route
    /// event when a link going down kills a nexthop).
    private static let groups: [Int32] = [
        Int32(RTNLGRP_IPV4_ROUTE.rawValue), Int32(RTNLGRP_NEXTHOP.rawValue), Int32(RTNLGRP_LINK.rawValue),
    ]

    /// With `addresses`, IPv4 and IPv6 address events too: what the
    /// routing-config renderer reads (an interface's networks, an IPv6
    /// address leaving tentative or becoming deprecated) changes with them.
    /// With `ipv6Routes`, IPv6 route events too (`ecmpd verify --watch` on
    /// an IPv6 VIP).
    init(addresses: Bool = false, ipv6Routes: Bool = false) throws(KernelErrno) {
        guard let socket = nl_socket_alloc() else { throw KernelErrno(ENOMEM) }
        // Events carry the kernel's sequence numbers, not ours.
        nl_socket_disable_seq_check(socket)
        var status = nl_connect(socket, NETLINK_ROUTE)
        // The variadic nl_socket_add_memberships does not import into Swift.
        let addressGroups = [Int32(RTNLGRP_IPV4_IFADDR.rawValue), Int32(RTNLGRP_IPV6_IFADDR.rawValue)]
        let routeGroups = ipv6Routes ? [Int32(RTNLGRP_IPV6_ROUTE.rawValue)] : []
        for group in Self.groups + routeGroups + (addresses ? addressGroups : []) where status == 0 {
            status = nl_socket_add_membership(socket, group)
        }
        if status == 0 { status = nl_socket_set_nonblocking(socket) }
        guard status == 0 else {
            nl_socket_free(socket)
            throw KernelErrno(libnlCode: status)
        }
        // Messages are only counted as "something changed"; drop them unparsed.
        nl_socket_modify_cb(socket, NL_CB_VALID, NL_CB_CUSTOM, { _, _ in Int32(NL_SKIP.rawValue) }, nil)
        let pipeEnds: (reader: Int32, writer: Int32)
        do throws(KernelErrno) {
            pipeEnds = try Self.wakePipe()
        } catch {
            nl_socket_free(socket)
            throw error
        }
        self.socket = socket
        self.wakeReader = pipeEnds.reader
        self.wakeWriter = pipeEnds.writer
    }

    deinit {
        // close's result is not checked: Linux releases the descriptor even
        // when close reports an error, and nothing was written that could be lost.
        close(wakeReader)
        close(wakeWriter)
        nl_socket_free(socket)
    }

    /// A pipe with both ends non-blocking, so `interrupt()` never blocks on
    /// a full pipe, and close-on-exec, so spawned processes do not inherit it.
    private static func wakePipe() throws(KernelErrno) -> (reader: Int32, writer: Int32) {
        var ends: [Int32] = [0, 0]
        try SystemCall.check("create", "the wake pipe of an rtnetlink event socket") { pipe(&ends) }
        do throws(KernelErrno) {
            for end in ends {
                try SystemCall.check("set O_NONBLOCK on", "the wake pipe") { fcntl(end, F_SETFL, O_NONBLOCK) }
                try SystemCall.check("set FD_CLOEXEC on", "the wake pipe") { fcntl(end, F_SETFD, FD_CLOEXEC) }
            }
        } catch {
            for end in ends { close(end) }
            throw error
        }
        return (ends[0], ends[1])
    }

    /// Waits up to `timeoutMilliseconds` for events or `interrupt()`, then
    /// drains whatever events are queued.
    func wait(timeoutMilliseconds: Int32) throws(KernelErrno) -> Wake {
        var descriptors = [
            pollfd(fd: nl_socket_get_fd(socket), events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeReader, events: Int16(POLLIN), revents: 0),
        ]
        do throws(KernelErrno) {
            try SystemCall.check("poll", "an rtnetlink event socket") {
                poll(&descriptors, nfds_t(descriptors.count), timeoutMilliseconds)
            }
        } catch let error where error.errno == EINTR {
            // A signal arrived; the owner's loop decides what it means.
            return .timedOut
        }
        if descriptors[1].revents != 0 { return .interrupted }
        guard descriptors[0].revents != 0 else { return .timedOut }
        return try drain() ? .overflowed : .events
    }

    /// Safe from any thread: only writes to the pipe, which stays readable
    /// (nothing reads it), so every later wait returns `.interrupted` too.
    func interrupt() {
        var byte: UInt8 = 1
        do throws(KernelErrno) {
            try SystemCall.check("write to", "the wake pipe") { write(wakeWriter, &byte, 1) }
        } catch {
            // Harmless: on a non-blocking pipe this socket owns, the one
            // failure is EAGAIN, a full pipe, and a full pipe is readable,
            // so every wait returns `.interrupted` anyway.
        }
    }

    /// Reads every queued event; true when the kernel reported an
    /// overflow meanwhile. The queue is still drained after one: what is
    /// left in it is stale too, and the owner re-reads anyway.
    private func drain() throws(KernelErrno) -> Bool {
        var overflowed = false
        while true {
            let status = nl_recvmsgs_default(socket)
            if status == -NLE_AGAIN { return overflowed }
            // libnl maps the kernel's ENOBUFS (socket receive buffer full,
            // events dropped) to NLE_NOMEM.
            if status == -NLE_NOMEM {
                overflowed = true
                continue
            }
            if status < 0 { throw KernelErrno(libnlCode: status) }
        }
    }
}
