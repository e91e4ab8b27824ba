/// DNS messages as `type: dns` checks send and read them (RFC 1035): one
/// question out, one reply in. Pure and bounded: a reply is read from the
/// bytes at hand only, every name at most 255 bytes, every compression
/// pointer strictly backwards (so a loop is an error, not a hang), and
/// anything that does not add up is a `DNSReplyError` with a reason.
public enum DNSMessage {
    /// The fixed header's length.
    public static let headerLength = 12
    /// The largest reply read over UDP: a DNS server without EDNS sends at
    /// most 512 bytes, with EDNS what the query advertised (the check
    /// advertises none). Longer datagrams are refused as oversized.
    public static let largestUDPReply = 4096

    /// The query's bytes: `id`, RD set (keepalived's DNS_CHECK asks for
    /// recursion too), one question of class IN.
    public static func query(id: UInt16, question: DNSQuestion, recursionDesired: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerLength + question.wireLength + 4)
        append16(&bytes, id)
        append16(&bytes, recursionDesired ? 0x0100 : 0)
        append16(&bytes, 1)  // QDCOUNT
        append16(&bytes, 0)
        append16(&bytes, 0)
        append16(&bytes, 0)
        for label in question.labels {
            bytes.append(UInt8(label.count))
            bytes += label
        }
        bytes.append(0)
        append16(&bytes, question.type.rawValue)
        append16(&bytes, 1)  // IN
        return bytes
    }

    /// Reads `bytes` as the reply to the query `id` for `question`.
    /// `limit` is the largest message accepted.
    public static func parseReply(_ bytes: [UInt8], id: UInt16, question: DNSQuestion, limit: Int) throws(DNSReplyError)
        -> DNSReply
    {
        guard bytes.count <= limit else { throw .oversized(bytes.count, limit: limit) }
        guard bytes.count >= headerLength else { throw .tooShort(bytes.count) }
        let gotID = read16(bytes, 0)
        guard gotID == id else { throw .wrongID(got: gotID, expected: id) }
        let flags = read16(bytes, 2)
        guard flags & 0x8000 != 0 else { throw .notAResponse }
        let opcode = Int(flags >> 11 & 0xf)
        guard opcode == 0 else { throw .wrongOpcode(opcode) }
        let rcode = DNSResponseCode(rawValue: UInt8(flags & 0xf))
        let truncated = flags & 0x0200 != 0
        let questions = Int(read16(bytes, 4))
        let answerCount = Int(read16(bytes, 6))
        var reader = Reader(bytes: bytes, offset: headerLength)
        // RFC 1035 allows a reply without the question (some servers send
        // FORMERR or REFUSED that way); one that has questions must echo ours.
        guard questions == 1 || (questions == 0 && rcode != .noError) else { throw .questionCount(questions) }
        if questions == 1 {
            let name = try reader.name(section: "question")
            let type = try reader.uint16(section: "question")
            let recordClass = try reader.uint16(section: "question")
            guard DNSQuestion.sameName(name, question.labels), type == question.type.rawValue, recordClass == 1 else {
                throw .questionMismatch(
                    got: DNSQuestion.presentation(name) + " " + DNSRecordType(rawValue: type).description,
                    expected: question.description)
            }
        }
        // A truncated reply's sections may end early: TC says so, and the
        // check asks again over TCP, so nothing past the question is read.
        var answers: [DNSRecord] = []
        if !truncated {
            for _ in 0..<answerCount {
                let name = try reader.name(section: "answer")
                let type = try reader.uint16(section: "answer")
                let recordClass = try reader.uint16(section: "answer")
                _ = try reader.uint16(section: "answer")  // TTL, high
                _ = try reader.uint16(section: "answer")  // TTL, low
                let length = Int(try reader.uint16(section: "answer"))
                try reader.skip(length, section: "answer")
                answers.append(DNSRecord(name: name, type: DNSRecordType(rawValue: type), recordClass: recordClass))
            }
        }
        return DNSReply(id: gotID, rcode: rcode, truncated: truncated, answers: answers)
    }

    static func append16(_ bytes: inout [UInt8], _ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xff))
    }

    static func read16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    /// A cursor over a reply.
    struct Reader {
        let bytes: [UInt8]
        var offset: Int

        mutating func uint16(section: String) throws(DNSReplyError) -> UInt16 {
            guard offset + 2 <= bytes.count else { throw .truncatedMessage(section: section) }
            defer { offset += 2 }
            return DNSMessage.read16(bytes, offset)
        }

        mutating func skip(_ count: Int, section: String) throws(DNSReplyError) {
            guard offset + count <= bytes.count else { throw .truncatedMessage(section: section) }
            offset += count
        }

        /// A name at the cursor, compression pointers followed. Every
        /// pointer must point before the pointer that led there, so the walk
        /// ends after at most as many jumps as the message has bytes.
        mutating func name(section: String) throws(DNSReplyError) -> [[UInt8]] {
            var labels: [[UInt8]] = []
            var position = offset
            var wireLength = 1
            var jumped = false
            /// The lowest offset this name has been read from: a pointer must go below it.
            var floor = offset
            while true {
                guard position < bytes.count else { throw .truncatedMessage(section: section) }
                let length = Int(bytes[position])
                switch length & 0xc0 {
                case 0:
                    if length == 0 {
                        if !jumped { offset = position + 1 }
                        return labels
                    }
                    guard position + 1 + length <= bytes.count else { throw .truncatedMessage(section: section) }
                    wireLength += length + 1
                    guard wireLength <= DNSQuestion.longestName else { throw .nameTooLong }
                    labels.append(Array(bytes[(position + 1)...(position + length)]))
                    position += 1 + length
                case 0xc0:
                    guard position + 2 <= bytes.count else { throw .truncatedMessage(section: section) }
                    let target = (length & 0x3f) << 8 | Int(bytes[position + 1])
                    guard target < bytes.count else { throw .pointerOutOfRange(at: position, target: target) }
                    guard target < floor else { throw .compressionLoop(at: position, target: target) }
                    if !jumped { offset = position + 2 }
                    jumped = true
                    floor = target
                    position = target
                default:
                    // 0x40 and 0x80: extended label types (RFC 6891 retired them).
                    throw .badLabelType(at: position, byte: UInt8(length))
                }
            }
        }
    }
}

/// The one question a check asks.
public struct DNSQuestion: Sendable, Equatable, CustomStringConvertible {
    public static let longestName = 255
    public static let longestLabel = 63

    public var labels: [[UInt8]]
    public var type: DNSRecordType

    /// `name` in presentation form ("example.org", "example.org.", "" or "."
    /// for the root). Letters, digits and `-_*` only; no empty label.
    public init(name: String, type: DNSRecordType) throws(DNSNameError) {
        labels = try Self.labels(of: name)
        self.type = type
    }

    public static func labels(of name: String) throws(DNSNameError) -> [[UInt8]] {
        var text = Substring(name)
        if text.hasSuffix(".") { text = text.dropLast() }
        guard !text.isEmpty else { return [] }
        var labels: [[UInt8]] = []
        var length = 1
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            let bytes = Array(part.utf8)
            guard !bytes.isEmpty else { throw .emptyLabel }
            guard bytes.count <= longestLabel else { throw .labelTooLong(String(part)) }
            guard
                bytes.allSatisfy({ byte in
                    (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
                        || byte == 0x2d || byte == 0x5f || byte == 0x2a
                })
            else { throw .badCharacter(String(part)) }
            length += bytes.count + 1
            guard length <= longestName else { throw .tooLong }
            labels.append(bytes)
        }
        return labels
    }

    var wireLength: Int { labels.reduce(1) { $0 + $1.count + 1 } }

    public var description: String { Self.presentation(labels) + " " + type.description }

    /// Names compare without regard to ASCII case (RFC 4343).
    static func sameName(_ a: [[UInt8]], _ b: [[UInt8]]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            guard x.count == y.count else { return false }
            for (p, q) in zip(x, y) where lower(p) != lower(q) { return false }
        }
        return true
    }

    static func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5a).contains(byte) ? byte | 0x20 : byte }

    /// A name for messages: printable ASCII as is, other bytes as \DDD.
    public static func presentation(_ labels: [[UInt8]]) -> String {
        guard !labels.isEmpty else { return "." }
        return labels.map { label in
            var text = ""
            for byte in label {
                if byte > 0x20, byte < 0x7f, byte != 0x2e, byte != 0x5c {
                    text.unicodeScalars.append(Unicode.Scalar(byte))
                } else {
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            return text
        }.joined(separator: ".") + "."
    }
}

public enum DNSNameError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyLabel
    case labelTooLong(String)
    case badCharacter(String)
    case tooLong

    public var description: String {
        switch self {
        case .emptyLabel: return "a name has no empty label (two dots in a row, or a leading dot)"
        case .labelTooLong(let label): return "label '\(label)' is longer than 63 bytes"
        case .badCharacter(let label): return "label '\(label)' has a character other than letters, digits, - _ *"
        case .tooLong: return "a name is at most 255 bytes on the wire"
        }
    }
}

/// A resource record's type: A, AAAA, SOA... or any number as TYPEn (RFC 3597).
public struct DNSRecordType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(rawValue: 1)
    public static let ns = DNSRecordType(rawValue: 2)
    public static let cname = DNSRecordType(rawValue: 5)
    public static let soa = DNSRecordType(rawValue: 6)
    public static let ptr = DNSRecordType(rawValue: 12)
    public static let mx = DNSRecordType(rawValue: 15)
    public static let txt = DNSRecordType(rawValue: 16)
    public static let aaaa = DNSRecordType(rawValue: 28)
    public static let srv = DNSRecordType(rawValue: 33)
    public static let rrsig = DNSRecordType(rawValue: 46)
    public static let dnskey = DNSRecordType(rawValue: 48)

    static let names: [(String, DNSRecordType)] = [
        ("A", .a), ("NS", .ns), ("CNAME", .cname), ("SOA", .soa), ("PTR", .ptr), ("MX", .mx), ("TXT", .txt),
        ("AAAA", .aaaa), ("SRV", .srv), ("RRSIG", .rrsig), ("DNSKEY", .dnskey),
    ]

    /// A mnemonic (any case) or TYPEn, n from 1 to 65535.
    public init?(name: String) {
        let upper = name.uppercased()
        if let known = Self.names.first(where: { $0.0 == upper }) {
            self = known.1
        } else if upper.hasPrefix("TYPE"), let value = UInt16(upper.dropFirst(4)), value > 0 {
            self.init(rawValue: value)
        } else {
            return nil
        }
    }

    public var description: String { Self.names.first { $0.1 == self }?.0 ?? "TYPE\(rawValue)" }
}

/// A reply's RCODE (the header's four bits).
public struct DNSResponseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let noError = DNSResponseCode(rawValue: 0)
    public static let formatError = DNSResponseCode(rawValue: 1)
    public static let serverFailure = DNSResponseCode(rawValue: 2)
    public static let nameError = DNSResponseCode(rawValue: 3)
    public static let notImplemented = DNSResponseCode(rawValue: 4)
    public static let refused = DNSResponseCode(rawValue: 5)

    static let names: [(String, DNSResponseCode)] = [
        ("NOERROR", .noError), ("FORMERR", .formatError), ("SERVFAIL", .serverFailure), ("NXDOMAIN", .nameError),
        ("NOTIMP", .notImplemented), ("REFUSED", .refused),
    ]

    /// A mnemonic (any case) or a number from 0 to 15.
    public init?(name: String) {
        if let known = Self.names.first(where: { $0.0 == name.uppercased() }) {
            self = known.1
        } else if let value = UInt8(name), value < 16 {
            self.init(rawValue: value)
        } else {
            return nil
        }
    }

    public var description: String { Self.names.first { $0.1 == self }?.0 ?? String(rawValue) }
}

public struct DNSRecord: Sendable, Equatable {
    public var name: [[UInt8]]
    public var type: DNSRecordType
    public var recordClass: UInt16
}

public struct DNSReply: Sendable, Equatable {
    public var id: UInt16
    public var rcode: DNSResponseCode
    /// TC: the server had more to say than fits a datagram; ask over TCP.
    public var truncated: Bool
    /// The answer section (empty when truncated).
    public var answers: [DNSRecord]

    /// An answer of the asked type (at the end of any CNAME chain), or the
    /// CNAME itself when that was asked, of class IN.
    public func answers(_ question: DNSQuestion) -> Bool {
        answers.contains { $0.type == question.type && $0.recordClass == 1 }
    }
}

/// Why a reply was not taken. The description is the check's failure reason.
public enum DNSReplyError: Error, Sendable, Equatable, CustomStringConvertible {
    case tooShort(Int)
    case oversized(Int, limit: Int)
    case wrongID(got: UInt16, expected: UInt16)
    case notAResponse
    case wrongOpcode(Int)
    case questionCount(Int)
    case questionMismatch(got: String, expected: String)
    case truncatedMessage(section: String)
    case compressionLoop(at: Int, target: Int)
    case pointerOutOfRange(at: Int, target: Int)
    case badLabelType(at: Int, byte: UInt8)
    case nameTooLong

    public var description: String {
        switch self {
        case .tooShort(let count): return "DNS reply of \(count) bytes, shorter than a header (12)"
        case .oversized(let count, let limit): return "DNS reply of \(count) bytes, over the \(limit) accepted"
        case .wrongID(let got, let expected): return "DNS reply with ID \(got), expected \(expected)"
        case .notAResponse: return "DNS message without the QR bit: a query, not a reply"
        case .wrongOpcode(let opcode): return "DNS reply with opcode \(opcode), expected 0 (QUERY)"
        case .questionCount(let count): return "DNS reply with \(count) questions, expected 1"
        case .questionMismatch(let got, let expected): return "DNS reply for \(got), asked \(expected)"
        case .truncatedMessage(let section): return "DNS reply ends inside its \(section) section"
        case .compressionLoop(let at, let target):
            return "DNS reply's name pointer at byte \(at) goes to \(target), not back: a compression loop"
        case .pointerOutOfRange(let at, let target):
            return "DNS reply's name pointer at byte \(at) goes to \(target), past the message's end"
        case .badLabelType(let at, let byte):
            return "DNS reply has an unknown label type 0x\(String(byte, radix: 16)) at byte \(at)"
        case .nameTooLong: return "DNS reply has a name longer than 255 bytes"
        }
    }

    /// Replies a check ignores and keeps waiting past (a late reply to an
    /// earlier query, or a stray query): anything else with our ID fails.
    public var isStray: Bool {
        switch self {
        case .wrongID, .notAResponse: return true
        default: return false
        }
    }
}
