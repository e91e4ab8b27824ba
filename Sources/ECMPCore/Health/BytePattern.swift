/// Bytes written as hex, where `x` stands for any nibble (keepalived's
/// UDP_CHECK `require_reply` takes the same form): `"0a 0b xx"`,
/// `"DEADbeef"`. Blanks between bytes are ignored.
public struct BytePattern: Sendable, Equatable, CustomStringConvertible {
    public var bytes: [UInt8]
    /// Set bits are compared; a wildcard nibble's are clear.
    public var mask: [UInt8]

    public init(bytes: [UInt8], mask: [UInt8]? = nil) {
        self.bytes = bytes
        self.mask = mask ?? Array(repeating: 0xff, count: bytes.count)
    }

    /// nil when `text` is empty, has an odd number of digits in a group, or
    /// anything but hex digits, x and blanks (or x when `wildcards` is false).
    public init?(hex text: String, wildcards: Bool = true) {
        var bytes: [UInt8] = []
        var mask: [UInt8] = []
        for group in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            let digits = Array(group.utf8)
            guard digits.count % 2 == 0 else { return nil }
            var index = 0
            while index < digits.count {
                guard let high = Self.nibble(digits[index], wildcards),
                    let low = Self.nibble(digits[index + 1], wildcards)
                else { return nil }
                bytes.append((high.value << 4) | low.value)
                mask.append((high.compared ? 0xf0 : 0) | (low.compared ? 0x0f : 0))
                index += 2
            }
        }
        guard !bytes.isEmpty else { return nil }
        self.bytes = bytes
        self.mask = mask
    }

    private static func nibble(_ digit: UInt8, _ wildcards: Bool) -> (value: UInt8, compared: Bool)? {
        switch digit {
        case 0x30...0x39: return (digit - 0x30, true)
        case 0x41...0x46: return (digit - 0x41 + 10, true)
        case 0x61...0x66: return (digit - 0x61 + 10, true)
        case 0x58, 0x78: return wildcards ? (0, false) : nil
        default: return nil
        }
    }

    /// `reply` starts with these bytes (wildcards aside).
    public func isPrefix(of reply: some Collection<UInt8>) -> Bool {
        guard reply.count >= bytes.count else { return false }
        for (index, byte) in reply.prefix(bytes.count).enumerated() where (byte ^ bytes[index]) & mask[index] != 0 {
            return false
        }
        return true
    }

    /// Lower-case hex, x for a wildcard nibble: the form the parser reads.
    public var description: String {
        let digits = Array("0123456789abcdef")
        var text = ""
        for (byte, bits) in zip(bytes, mask) {
            text.append(bits & 0xf0 == 0 ? "x" : digits[Int(byte >> 4)])
            text.append(bits & 0x0f == 0 ? "x" : digits[Int(byte & 0xf)])
        }
        return text
    }
}

/// What a UDP check makes of a reply: nil when it passes, else the reason.
public enum UDPReplyCheck {
    public static func problem(_ reply: [UInt8], length: Int, check: UDPCheck) -> String? {
        if length < check.minimumReplyLength {
            return "UDP reply of \(length) bytes, shorter than min_reply_length \(check.minimumReplyLength)"
        }
        if length > check.maximumReplyLength {
            return "UDP reply of \(length) bytes, longer than max_reply_length \(check.maximumReplyLength)"
        }
        if let expect = check.expect, !expect.isPrefix(of: reply) {
            let shown = BytePattern(bytes: Array(reply.prefix(min(expect.bytes.count, 32))))
            return
                "UDP reply starts \(shown.description.isEmpty ? "with nothing" : shown.description), expected \(expect)"
        }
        return nil
    }
}

/// ICMP echo messages (RFC 792, RFC 4443) as `type: icmp` checks send and
/// read them. On a ping socket (SOCK_DGRAM, IPPROTO_ICMP) the kernel sets
/// the identifier and checksum and hands back only replies to this socket;
/// on a raw socket both are ours and an IPv4 reply comes with its IP header.
public enum ICMPEcho {
    public static let payloadLength = 56

    /// An echo request: type 8 (IPv4) or 128 (IPv6), checksum filled in for
    /// IPv4 (the kernel fills ICMPv6's, which covers a pseudo-header).
    public static func request(identifier: UInt16, sequence: UInt16, ipv6: Bool) -> [UInt8] {
        var bytes: [UInt8] = [ipv6 ? 128 : 8, 0, 0, 0]
        bytes += [UInt8(identifier >> 8), UInt8(identifier & 0xff), UInt8(sequence >> 8), UInt8(sequence & 0xff)]
        bytes += (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0) }
        if !ipv6 {
            let sum = checksum(bytes)
            bytes[2] = UInt8(sum >> 8)
            bytes[3] = UInt8(sum & 0xff)
        }
        return bytes
    }

    /// The Internet checksum (RFC 1071).
    public static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    public enum Reading: Equatable, Sendable {
        /// The reply to our request.
        case reply
        /// Not ours (another process's echo, an older sequence): keep waiting.
        case other
        /// An ICMP error about our request (destination unreachable...), with its text.
        case error(String)
    }

    /// Reads one ICMP message (without IP header) received for a request
    /// with `identifier` (nil on a ping socket: the kernel matched it) and
    /// `sequence`.
    public static func read(_ message: [UInt8], identifier: UInt16?, sequence: UInt16, ipv6: Bool) -> Reading {
        guard message.count >= 8 else { return .other }
        let type = message[0]
        let code = message[1]
        let replyType: UInt8 = ipv6 ? 129 : 0
        if type == replyType {
            let id = UInt16(message[4]) << 8 | UInt16(message[5])
            let seq = UInt16(message[6]) << 8 | UInt16(message[7])
            if let identifier, id != identifier { return .other }
            return seq == sequence ? .reply : .other
        }
        let unreachable: UInt8 = ipv6 ? 1 : 3
        let timeExceeded: UInt8 = ipv6 ? 3 : 11
        guard type == unreachable || type == timeExceeded else { return .other }
        // The error quotes our request: for a raw socket, make sure it is ours.
        if let identifier {
            let quotedStart = ipv6 ? 8 + 40 : 8 + Int((message.count > 8 ? message[8] : 0x45) & 0x0f) * 4
            guard message.count >= quotedStart + 8 else { return .other }
            let id = UInt16(message[quotedStart + 4]) << 8 | UInt16(message[quotedStart + 5])
            guard id == identifier else { return .other }
        }
        return .error(describe(type: type, code: code, ipv6: ipv6))
    }

    /// An ICMP error's text, as the check's failure reason.
    public static func describe(type: UInt8, code: UInt8, ipv6: Bool) -> String {
        if ipv6 {
            if type == 3 { return "ICMPv6 time exceeded" }
            let codes = [
                "no route to destination", "administratively prohibited", "beyond scope of source",
                "address unreachable",
                "port unreachable",
            ]
            return "ICMPv6 destination unreachable: " + (Int(code) < codes.count ? codes[Int(code)] : "code \(code)")
        }
        if type == 11 { return "ICMP time exceeded" }
        let codes = [
            "network unreachable", "host unreachable", "protocol unreachable", "port unreachable",
            "fragmentation needed", "source route failed", "network unknown", "host unknown",
        ]
        switch code {
        case 9, 10, 13: return "ICMP destination unreachable: administratively prohibited"
        default: return "ICMP destination unreachable: " + (Int(code) < codes.count ? codes[Int(code)] : "code \(code)")
        }
    }
}

/// Whether `type: icmp` checks can open a ping socket: the kernel grants
/// one to a process whose group is inside net.ipv4.ping_group_range ("LOW
/// HIGH"; Debian's default "1 0" is empty). `ecmpd check` warns with this.
public enum PingGroupRange {
    /// nil when `group` is inside `range`, else the warning's text.
    /// `groupName` nil: the group is this process's, not a named one.
    public static func problem(range: String, group: UInt32, groupName: String?) -> String? {
        let bounds = range.split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) }
        if bounds.count == 2, bounds[0] <= group, group <= bounds[1] { return nil }
        let shown = range.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return
            "icmp checks need a ping socket, and net.ipv4.ping_group_range (\(shown)) does not include \(groupName.map { "group \($0)" } ?? "this process's group") (\(group)); without it or CAP_NET_RAW every icmp check fails. Set it to \"\(group) \(group)\" in /etc/sysctl.d (docs/managed-mode.md, \"ICMP checks and their privilege\")"
    }
}
