import ECMPCore

#if canImport(Glibc)
    import Glibc
#endif

/// The raw Linux calls behind `DatagramProbe`: a connected socket of any
/// type, a send, a receive bounded by a deadline (poll), and a TCP connect
/// bounded the same way. Every pointer and C struct of those probes stays in
/// this file. A connected datagram socket takes datagrams only from the
/// address and port it is connected to (the kernel drops others), and the
/// kernel reports an ICMP error about it (port or host unreachable) as the
/// socket's error, returned by the next receive.
enum DatagramSyscalls {
    enum Received {
        /// The first bytes of a datagram (or stream data), and its full length.
        case data([UInt8], length: Int)
        case failed(Int32)
        case timedOut
        /// The stream ended (TCP only).
        case closed
    }

    static let datagram = Int32(SOCK_DGRAM.rawValue)
    static let stream = Int32(SOCK_STREAM.rawValue)
    static let raw = Int32(SOCK_RAW.rawValue)

    static func family(of endpoint: ConnectSyscalls.Endpoint) -> Int32 {
        switch endpoint {
        case .v4: return AF_INET
        case .v6: return AF_INET6
        }
    }

    /// A non-blocking socket of `type` and `proto`; the descriptor or the errno.
    static func open(_ endpoint: ConnectSyscalls.Endpoint, type: Int32, proto: Int32) -> Result<Int32, SocketError> {
        let descriptor = socket(
            family(of: endpoint), type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), proto)
        guard descriptor >= 0 else { return .failure(SocketError(code: errno)) }
        return .success(descriptor)
    }

    /// connect(2): 0, EINPROGRESS (a stream socket's connect under way) or the errno.
    static func connect(_ descriptor: Int32, to endpoint: ConnectSyscalls.Endpoint) -> Int32 {
        let result: Int32
        switch endpoint {
        case .v4(var address):
            result = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6(var address):
            result = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        return result == 0 ? 0 : errno
    }

    /// Waits until a stream socket's connect ends or `deadline` passes: 0,
    /// the connect's errno, or ETIMEDOUT.
    static func finishConnect(_ descriptor: Int32, deadline: UInt64) -> Int32 {
        switch wait(descriptor, events: Int16(POLLOUT), deadline: deadline) {
        case .timedOut: return ETIMEDOUT
        case .failed(let code): return code
        case .ready:
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length) != 0 { return errno }
            return failure
        }
    }

    /// Sends all of `bytes` (one datagram, or the whole buffer on a stream
    /// before `deadline`); 0 or the errno.
    static func send(_ descriptor: Int32, _ bytes: [UInt8], deadline: UInt64) -> Int32 {
        var sent = 0
        repeat {
            let count = bytes.withUnsafeBytes { buffer in
                Glibc.send(descriptor, buffer.baseAddress.map { $0 + sent }, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                guard errno == EAGAIN || errno == EINTR else { return errno }
                switch wait(descriptor, events: Int16(POLLOUT), deadline: deadline) {
                case .timedOut: return ETIMEDOUT
                case .failed(let code): return code
                case .ready: continue
                }
            }
            sent += count
        } while sent < bytes.count
        return 0
    }

    /// The next datagram (at most `capacity` bytes of it, with its full
    /// length) or stream data, waiting until `deadline`. A datagram's full
    /// length. On a stream (`stream` true) MSG_TRUNC would discard the
    /// data, so it is left out there.
    static func receive(_ descriptor: Int32, capacity: Int, deadline: UInt64, stream: Bool = false) -> Received {
        let flags = Int32(MSG_DONTWAIT) | (stream ? 0 : Int32(MSG_TRUNC))
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count = buffer.withUnsafeMutableBytes { raw in recv(descriptor, raw.baseAddress, capacity, flags) }
            if count >= 0 {
                if count == 0, stream { return .closed }
                return .data(Array(buffer.prefix(min(count, capacity))), length: count)
            }
            let code = errno
            guard code == EAGAIN || code == EINTR else { return .failed(code) }
            switch wait(descriptor, events: Int16(POLLIN), deadline: deadline) {
            case .timedOut: return .timedOut
            case .failed(let code): return .failed(code)
            case .ready: continue
            }
        }
    }

    /// Exactly `count` bytes of a stream before `deadline`.
    static func receiveExactly(_ descriptor: Int32, count: Int, deadline: UInt64) -> Received {
        var bytes: [UInt8] = []
        while bytes.count < count {
            switch receive(descriptor, capacity: count - bytes.count, deadline: deadline, stream: true) {
            case .data(let chunk, _): bytes += chunk
            case let other: return other
            }
        }
        return .data(bytes, length: count)
    }

    enum Readiness {
        case ready
        case timedOut
        case failed(Int32)
    }

    /// poll(2) for `events` until `deadline`. An error or hang-up counts as
    /// ready: the call that follows reads the socket's error.
    static func wait(_ descriptor: Int32, events: Int16, deadline: UInt64) -> Readiness {
        while true {
            let now = ConnectSyscalls.monotonicNanoseconds()
            guard now < deadline else { return .timedOut }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            // Rounded up: waking a millisecond early would spin.
            let milliseconds = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            let result = poll(&entry, 1, milliseconds)
            if result > 0 { return .ready }
            if result < 0, errno != EINTR { return .failed(errno) }
        }
    }

    static func close(_ descriptor: Int32) { _ = Glibc.close(descriptor) }

    static func randomID() -> UInt16 { UInt16.random(in: 0...UInt16.max) }

    /// The effective group and the kernel's ping_group_range, for the
    /// message when a ping socket is refused.
    static func pingGroupRange() -> (group: UInt32, range: String) {
        var range = "unreadable"
        if let file = fopen("/proc/sys/net/ipv4/ping_group_range", "r") {
            var buffer = [CChar](repeating: 0, count: 64)
            if fgets(&buffer, 64, file) != nil {
                range = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    .split(whereSeparator: \.isWhitespace).joined(separator: " ")
            }
            fclose(file)
        }
        return (getegid(), range)
    }
}

struct SocketError: Error {
    var code: Int32
}
