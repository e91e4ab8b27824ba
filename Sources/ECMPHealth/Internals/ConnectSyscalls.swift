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
        let result: Int32
        switch endpoint {
        case .v4(var address):
            result = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6(var address):
            result = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
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
