/// Reads an HTTP/1.x response as it arrives, in pieces, for the HTTP and
/// HTTPS checks: the status line, the headers, and a body delimited by
/// Content-Length, by chunked transfer coding, or by the connection's close
/// (RFC 9112 §6.3). The body is never kept: it is hashed as it passes when
/// a digest is wanted, and only counted otherwise.
///
/// Limits keep a misbehaving server from costing memory: the head may be at
/// most `headLimit` bytes, a chunk-size line 1 KiB, the body `bodyLimit`.
public struct HTTPResponseParser: Sendable {
    public struct Response: Sendable, Equatable {
        public var status: Int
        /// MD5 of the decoded body (chunks joined), when asked for.
        public var bodyDigest: String?
        public var bodyLength: Int
    }

    public enum Progress: Sendable, Equatable {
        case needMore
        case complete(Response)
    }

    public static let headLimit = 16 * 1024
    public static let bodyLimit = 4 * 1024 * 1024

    private enum Stage: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    private var stage = Stage.head
    private var line: [UInt8] = []
    private var headBytes = 0
    private var status: Int?
    private var headers: [(String, String)] = []
    private var md5: MD5?
    private var bodyLength = 0
    /// True for a response to HEAD, or any status that has no body.
    private let requestWasHead: Bool
    public private(set) var received = 0

    public init(digestBody: Bool, requestWasHead: Bool = false) {
        md5 = digestBody ? MD5() : nil
        self.requestWasHead = requestWasHead
    }

    /// Feeds bytes; returns `.complete` once the response is whole. Bytes
    /// after the end are ignored (the check closes the connection).
    public mutating func feed<Bytes: Collection>(_ bytes: Bytes) throws(CheckFailure) -> Progress
    where Bytes.Element == UInt8 {
        received += bytes.count
        var index = bytes.startIndex
        while index != bytes.endIndex {
            switch stage {
            case .done:
                return .complete(response)
            case .head, .chunkSize, .chunkDataEnd, .trailers:
                let byte = bytes[index]
                index = bytes.index(after: index)
                try takeLineByte(byte)
            case .fixedBody(let remaining):
                let available = bytes.distance(from: index, to: bytes.endIndex)
                let take = min(remaining, available)
                let end = bytes.index(index, offsetBy: take)
                try body(bytes[index..<end])
                index = end
                stage = remaining - take == 0 ? .done : .fixedBody(remaining: remaining - take)
            case .chunkData(let remaining):
                let available = bytes.distance(from: index, to: bytes.endIndex)
                let take = min(remaining, available)
                let end = bytes.index(index, offsetBy: take)
                try body(bytes[index..<end])
                index = end
                stage = remaining - take == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .untilClose:
                try body(bytes[index...])
                index = bytes.endIndex
            }
        }
        if case .done = stage { return .complete(response) }
        return .needMore
    }

    /// The connection closed: complete if the body runs to the close,
    /// otherwise the response was cut short.
    public mutating func finish() throws(CheckFailure) -> Response {
        switch stage {
        case .done: return response
        case .untilClose:
            stage = .done
            return response
        default:
            throw .truncatedResponse(received: received)
        }
    }

    private var response: Response {
        Response(status: status ?? 0, bodyDigest: md5?.hexDigest(), bodyLength: bodyLength)
    }

    private mutating func body<Bytes: Collection>(_ bytes: Bytes) throws(CheckFailure) where Bytes.Element == UInt8 {
        bodyLength += bytes.count
        if bodyLength > Self.bodyLimit { throw .malformedResponse("body over \(Self.bodyLimit / (1024 * 1024)) MiB") }
        md5?.update(bytes)
    }

    private mutating func takeLineByte(_ byte: UInt8) throws(CheckFailure) {
        if case .head = stage {
            headBytes += 1
            if headBytes > Self.headLimit {
                throw .malformedResponse("status line and headers over \(Self.headLimit / 1024) KiB")
            }
        } else if line.count > 1024 {
            throw .malformedResponse("chunk-size or trailer line over 1 KiB")
        }
        guard byte == UInt8(ascii: "\n") else {
            line.append(byte)
            return
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        let text = String(decoding: line, as: UTF8.self)
        line.removeAll(keepingCapacity: true)
        try takeLine(text)
    }

    private mutating func takeLine(_ text: String) throws(CheckFailure) {
        switch stage {
        case .head:
            if status == nil {
                status = try Self.parseStatusLine(text)
            } else if text.isEmpty {
                try beginBody()
            } else {
                guard let colon = text.firstIndex(of: ":") else {
                    throw .malformedResponse("header line without a colon: \(text.prefix(80))")
                }
                let name = text[..<colon].lowercased()
                let value = text[text.index(after: colon)...].trimmingSpaces()
                headers.append((name, value))
            }
        case .chunkSize:
            let sizeText = text.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingSpaces() } ?? ""
            guard !sizeText.isEmpty, sizeText.count <= 8, let size = Int(sizeText, radix: 16) else {
                throw .malformedResponse("bad chunk size '\(text.prefix(40))'")
            }
            stage = size == 0 ? .trailers : .chunkData(remaining: size)
        case .chunkDataEnd:
            guard text.isEmpty else { throw .malformedResponse("chunk not followed by CRLF") }
            stage = .chunkSize
        case .trailers:
            if text.isEmpty { stage = .done }
        default:
            break
        }
    }

    private mutating func beginBody() throws(CheckFailure) {
        let code = status ?? 0
        // Interim responses (100 Continue, 103 Early Hints) precede the real one.
        if (100..<200).contains(code) {
            status = nil
            headers.removeAll()
            return
        }
        if requestWasHead || code == 204 || code == 304 {
            stage = .done
            return
        }
        let encodings = headers.filter { $0.0 == "transfer-encoding" }.map { $0.1.lowercased() }
        if let last = encodings.last {
            guard last.split(separator: ",").last.map({ String($0).trimmingSpaces() }) == "chunked" else {
                // Not chunked last: the body runs to the close (RFC 9112 §6.3 item 4 for responses).
                stage = .untilClose
                return
            }
            stage = .chunkSize
            return
        }
        let lengths = Set(headers.filter { $0.0 == "content-length" }.map(\.1))
        if lengths.count > 1 { throw .malformedResponse("conflicting Content-Length headers") }
        if let lengthText = lengths.first {
            guard let length = Int(lengthText), length >= 0 else {
                throw .malformedResponse("bad Content-Length '\(lengthText.prefix(40))'")
            }
            if length > Self.bodyLimit { throw .malformedResponse("body over \(Self.bodyLimit / (1024 * 1024)) MiB") }
            stage = length == 0 ? .done : .fixedBody(remaining: length)
            return
        }
        stage = .untilClose
    }

    static func parseStatusLine(_ text: String) throws(CheckFailure) -> Int {
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[0].count == 8 else {
            throw .malformedResponse("not an HTTP/1.x status line: '\(text.prefix(60))'")
        }
        guard parts[1].count == 3, let code = Int(parts[1]), (100...599).contains(code) else {
            throw .malformedResponse("bad status code '\(parts[1].prefix(10))'")
        }
        return code
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
