import Glibc

/// A tiny blocking HTTP/1.1 GET client for `ecmpd status`: one request per
/// connection, a deadline on connect and on every read and write, and a cap
/// on the response size. The CLI makes one call and exits, so an event loop
/// would be all weight and no benefit.
public struct StatusClient: Sendable {
    /// A GET that did not produce a response.
    public struct Failure: Error, CustomStringConvertible {
        public var address: String
        public var reason: String
        public var description: String { "cannot reach the ecmpd status endpoint at \(address): \(reason)" }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    public var host: String
    public var port: Int
    public var timeout: Duration
    public var maxResponseBytes: Int

    public init(host: String, port: Int, timeout: Duration = .seconds(5), maxResponseBytes: Int = 16 * 1024 * 1024) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }

    var addressText: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public func get(_ path: String) throws(Failure) -> Response {
        let socket = try connect()
        defer { close(socket) }
        try send(
            socket,
            Array("GET \(path) HTTP/1.1\r\nHost: \(addressText)\r\nConnection: close\r\nAccept: */*\r\n\r\n".utf8))
        return try parse(try receiveAll(socket))
    }

    private func failure(_ reason: String) -> Failure { Failure(address: addressText, reason: reason) }

    private func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    private func connect() throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &info)
        guard status == 0, let first = info else {
            throw failure("'\(host)' is not a numeric address (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(info) }
        let socket = Glibc.socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard socket >= 0 else { throw failure("socket: \(errnoText())") }
        do throws(Failure) {
            try setTimeouts(socket)
            // Non-blocking connect bounded by poll: a blocking connect to a
            // black-holed address would wait for the kernel's SYN retries.
            let flags = fcntl(socket, F_GETFL)
            guard flags >= 0, fcntl(socket, F_SETFL, flags | O_NONBLOCK) == 0 else {
                throw failure("fcntl(O_NONBLOCK): \(errnoText())")
            }
            if Glibc.connect(socket, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
                guard errno == EINPROGRESS else { throw failure(errnoText()) }
                var pollEntry = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&pollEntry, 1, Int32(milliseconds(timeout)))
                guard ready > 0 else { throw failure(ready == 0 ? "connect timed out after \(timeout)" : errnoText()) }
                var socketError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                guard getsockopt(socket, SOL_SOCKET, SO_ERROR, &socketError, &length) == 0 else {
                    throw failure("getsockopt(SO_ERROR): \(errnoText())")
                }
                guard socketError == 0 else { throw failure(errnoText(socketError)) }
            }
            // Blocking again, so the SO_RCVTIMEO/SO_SNDTIMEO deadlines govern
            // every read and write: left non-blocking, the first recv would
            // fail at once with EAGAIN, reported as "no response".
            guard fcntl(socket, F_SETFL, flags) == 0 else { throw failure("fcntl: \(errnoText())") }
            return socket
        } catch {
            close(socket)
            throw error
        }
    }

    private func setTimeouts(_ socket: Int32) throws(Failure) {
        let ms = milliseconds(timeout)
        var value = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            guard setsockopt(socket, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw failure("setsockopt: \(errnoText())")
            }
        }
    }

    private func milliseconds(_ duration: Duration) -> Int {
        max(1, Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000))
    }

    private func send(_ socket: Int32, _ bytes: [UInt8]) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else {
                throw failure(
                    errno == EAGAIN || errno == EWOULDBLOCK ? "send timed out after \(timeout)" : "send: \(errnoText())"
                )
            }
            offset += sent
        }
    }

    /// Reads until the server closes (we asked for `Connection: close`).
    /// The socket timeout applies per read; the overall deadline bounds a
    /// server that trickles bytes.
    private func receiveAll(_ socket: Int32) throws(Failure) -> [UInt8] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count == 0 { return received }
            guard count > 0 else {
                throw failure(
                    errno == EAGAIN || errno == EWOULDBLOCK ? "no response within \(timeout)" : "recv: \(errnoText())")
            }
            received += chunk[..<count]
            guard received.count <= maxResponseBytes else {
                throw failure("response larger than \(maxResponseBytes) bytes")
            }
            guard ContinuousClock.now < deadline else { throw failure("response not complete within \(timeout)") }
        }
    }

    private func parse(_ bytes: [UInt8]) throws(Failure) -> Response {
        guard let headEnd = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else {
            throw failure("malformed HTTP response (no header end)")
        }
        let head = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw failure("malformed HTTP status line")
        }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingSpaces())
        }
        var response = Response(status: status, headers: headers, body: Array(bytes[headEnd.upperBound...]))
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            response.body = try dechunk(response.body)
        } else if let length = response.header("content-length").flatMap(Int.init) {
            guard response.body.count >= length else { throw failure("response body truncated") }
            response.body = Array(response.body.prefix(length))
        }
        return response
    }

    private func dechunk(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        var body: [UInt8] = []
        var rest = bytes[...]
        let crlf: [UInt8] = [13, 10]
        while true {
            guard let lineEnd = rest.firstRange(of: crlf),
                let size = Int(
                    String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self)
                        .split(separator: ";").first ?? "", radix: 16)
            else { throw failure("malformed chunked body") }
            rest = rest[lineEnd.upperBound...]
            if size == 0 { return body }
            guard rest.count >= size + 2 else { throw failure("chunked body truncated") }
            body += rest.prefix(size)
            rest = rest.dropFirst(size + 2)
        }
    }
}

private extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
