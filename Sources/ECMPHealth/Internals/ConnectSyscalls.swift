import CGlibcExtras
import ECMPCore

#if canImport(Glibc)
    import Glibc
#endif

/// The raw Linux calls behind `TCPCheckReactor`, and nothing else: a
/// non-blocking connect, its completion read with SO_ERROR, epoll, an
/// eventfd for wake-ups and the monotonic clock. Every pointer and C struct
/// of the reactor stays in this file.
enum ConnectSyscalls {
    /// A resolved socket address, built once per target rather than per check.
    enum Endpoint: Sendable {
        case v4(sockaddr_in)
        case v6(sockaddr_in6)

        init(_ address: IPAddress, port: Int) {
            let networkPort = UInt16(truncatingIfNeeded: port).bigEndian
            switch address {
            case .v4(let v4):
                var socketAddress = sockaddr_in()
                socketAddress.sin_family = sa_family_t(AF_INET)
                socketAddress.sin_port = networkPort
                socketAddress.sin_addr = in_addr(s_addr: v4.value.bigEndian)
                self = .v4(socketAddress)
            case .v6(let v6):
                var socketAddress = sockaddr_in6()
                socketAddress.sin6_family = sa_family_t(AF_INET6)
                socketAddress.sin6_port = networkPort
                withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { raw in
                    for (index, byte) in v6.bytes.prefix(16).enumerated() { raw[index] = byte }
                }
                self = .v6(socketAddress)
            }
        }

        /// Calls `body` with this address as a `sockaddr` and its length.
        func withSocketAddress<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
            switch self {
            case .v4(var address):
                return withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            case .v6(var address):
                return withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            }
        }
    }

    /// What starting a connect did.
    enum ConnectStart {
        /// Under way: wait for the descriptor to become writable.
        case pending(Int32)
        /// Finished at once (loopback can): the connect succeeded, descriptor closed.
        case connected
        /// Failed at once with this errno; nothing left open.
        case failed(Int32)
    }

    /// A non-blocking socket and a connect to `endpoint`. The socket has
    /// SO_LINGER 0, so its close is a reset: at thousands of checks a second
    /// TIME_WAIT sockets would otherwise pile up on the director (HAProxy
    /// closes its checks the same way).
    static func startConnect(to endpoint: Endpoint) -> ConnectStart {
        startConnect(to: endpoint) { _ in 0 }
    }

    /// A `via_vip` probe's connect: to the VIP, with `mark` (SO_MARK, which
    /// needs CAP_NET_ADMIN), from the address this host would use toward
    /// the real server. That source matters: left to the kernel, a connect
    /// to an address on lo takes the VIP itself as its source, and the real
    /// server's answer to the VIP would stay on the real server.
    static func startConnect(to vip: Endpoint, mark: UInt32, realServer: Endpoint) -> ConnectStart {
        var source: Endpoint
        switch sourceAddress(toward: realServer) {
        case .success(let found): source = found
        case .failure(let failure): return .failed(failure.code)
        }
        return startConnect(to: vip) { descriptor in
            var value = mark
            guard setsockopt(descriptor, SOL_SOCKET, SO_MARK, &value, socklen_t(MemoryLayout<UInt32>.size)) == 0
            else { return errno }
            // IP_BIND_ADDRESS_NO_PORT (linux/in.h; not in glibc's headers):
            // the port is then chosen at connect, per destination, not at
            // bind from the ports free on the source address for any.
            var noPort: Int32 = 1
            guard setsockopt(descriptor, Int32(IPPROTO_IP), 24, &noPort, socklen_t(MemoryLayout<Int32>.size)) == 0
            else { return errno }
            return source.withSocketAddress { bind(descriptor, $0, $1) } == 0 ? 0 : errno
        }
    }

    struct SocketErrno: Error { var code: Int32 }

    /// The source address a packet from this host to `endpoint` gets (port
    /// 0): a UDP socket's connect runs the route lookup without sending
    /// anything. Fails with the lookup's errno (ENETUNREACH when no route
    /// reaches the real server, e.g. after its address was deleted).
    static func sourceAddress(toward endpoint: Endpoint) -> Result<Endpoint, SocketErrno> {
        let family: Int32
        switch endpoint {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        }
        let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failure(SocketErrno(code: errno)) }
        defer { close(descriptor) }
        guard endpoint.withSocketAddress({ connect(descriptor, $0, $1) }) == 0 else {
            return .failure(SocketErrno(code: errno))
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return .failure(SocketErrno(code: errno)) }
        switch endpoint {
        case .v4:
            var address = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            address.sin_port = 0
            return .success(.v4(address))
        case .v6:
            var address = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            address.sin6_port = 0
            return .success(.v6(address))
        }
    }

    /// `prepare` runs on the new socket before its connect (0, or an errno
    /// that fails the attempt).
    private static func startConnect(to endpoint: Endpoint, prepare: (Int32) -> Int32) -> ConnectStart {
        let family: Int32
        switch endpoint {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        }
        let descriptor = socket(
            family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failed(errno) }
        var reset = linger(l_onoff: 1, l_linger: 0)
        // Not checked: on a socket just created, SO_LINGER cannot fail, and
        // if it did the check would still be right, only closed with a FIN.
        _ = setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
        let prepared = prepare(descriptor)
        guard prepared == 0 else {
            close(descriptor)
            return .failed(prepared)
        }
        let result = endpoint.withSocketAddress { connect(descriptor, $0, $1) }
        if result == 0 {
            close(descriptor)
            return .connected
        }
        let failure = errno
        if failure == EINPROGRESS { return .pending(descriptor) }
        close(descriptor)
        return .failed(failure)
    }

    /// The result of a connect that epoll reported with `events`: 0 for
    /// connected, else its errno. The descriptor is closed either way (which
    /// also removes it from the epoll set). Writable with neither error nor
    /// hang-up is a connect that succeeded: TCP reports writable only once
    /// out of SYN_SENT, and a failed connect (reset, ICMP error, timeout)
    /// sets the socket's error, which epoll reports as EPOLLERR. Only then is
    /// SO_ERROR read, one system call fewer for each healthy check.
    static func finishConnect(_ descriptor: Int32, events: UInt32) -> Int32 {
        var failure: Int32 = 0
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 || events & EPOLLOUT.rawValue == 0 {
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length) != 0 { failure = errno }
        }
        close(descriptor)
        return failure
    }

    static func closeDescriptor(_ descriptor: Int32) {
        close(descriptor)
    }

    // MARK: epoll and eventfd

    /// epoll with an eventfd registered under `wakeToken`.
    static func makePoller(wakeToken: UInt64) throws(CheckFailure) -> (epoll: Int32, wake: Int32) {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw .network("epoll_create1: \(String(cString: strerror(errno)))") }
        let wake = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wake >= 0 else {
            close(epoll)
            throw .network("eventfd: \(String(cString: strerror(errno)))")
        }
        guard watch(wake, token: wakeToken, events: EPOLLIN.rawValue, on: epoll) == 0 else {
            let failure = errno
            close(wake)
            close(epoll)
            throw .network("epoll_ctl: \(String(cString: strerror(failure)))")
        }
        return (epoll, wake)
    }

    /// Registers `descriptor` for `events`; 0 or the errno.
    @discardableResult
    static func watch(_ descriptor: Int32, token: UInt64, events: UInt32, on epoll: Int32) -> Int32 {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        return epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) == 0 ? 0 : errno
    }

    static let writable = EPOLLOUT.rawValue

    /// Waits up to `timeoutMilliseconds` (-1: forever) and returns how many
    /// events are now at the start of `buffer` (a full buffer means more may
    /// be waiting; an interrupted wait is 0).
    static func wait(_ epoll: Int32, buffer: inout [epoll_event], timeoutMilliseconds: Int32) -> Int {
        let count = buffer.withUnsafeMutableBufferPointer { events in
            epoll_wait(epoll, events.baseAddress, Int32(events.count), timeoutMilliseconds)
        }
        return max(0, Int(count))
    }

    static func makeEventBuffer(capacity: Int) -> [epoll_event] {
        Array(repeating: epoll_event(), count: capacity)
    }

    static func signal(_ wake: Int32) {
        var one: UInt64 = 1
        // Not checked: an eventfd write fails only with EAGAIN, when the
        // counter is near overflow, and then it is readable: the wake stands.
        _ = write(wake, &one, MemoryLayout<UInt64>.size)
    }

    static func drain(_ wake: Int32) {
        var value: UInt64 = 0
        // Not checked: EAGAIN means the counter was already 0, nothing to drain.
        _ = read(wake, &value, MemoryLayout<UInt64>.size)
    }

    /// CLOCK_MONOTONIC in nanoseconds: a wall-clock jump moves no check.
    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
