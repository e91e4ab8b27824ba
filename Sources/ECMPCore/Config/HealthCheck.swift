/// How managed mode decides that a real server is healthy.
public struct HealthCheck: Sendable, Equatable {
    public var kind: Kind
    public var interval: Duration
    public var timeout: Duration
    /// Consecutive successes to mark a server up, failures to mark it down.
    public var rise: Int
    public var fall: Int
    /// Attempts inside one check before it counts as a failure
    /// (keepalived's `retry`), spaced by `retryDelay`.
    public var retries: Int
    public var retryDelay: Duration
    /// Port to check when it differs from the real server's.
    public var connectPort: Int?
    /// Probe through the VIP path (`via_vip`): connect to the VIP and port,
    /// delivered to this real server alone as a direct-routing packet is
    /// (`VIPPathPlan`), so a server without the VIP on lo fails. Only for
    /// tcp, http and https checks of direct-routing services.
    public var viaVIP: Bool

    public enum Kind: Sendable, Equatable {
        case tcp
        case http(HTTPCheck)
        case exec(argv: [String])
        /// A datagram and, unless `requireReply` is off, a reply (keepalived's UDP_CHECK).
        case udp(UDPCheck)
        /// A DNS query over UDP, again over TCP when the reply is truncated.
        case dns(DNSCheck)
        /// ICMP echo requests (keepalived's PING_CHECK); the port is not used.
        case icmp
    }

    public init(
        kind: Kind, interval: Duration = .seconds(5), timeout: Duration = .seconds(3), rise: Int = 1, fall: Int = 1,
        retries: Int = 1, retryDelay: Duration = .seconds(1), connectPort: Int? = nil, viaVIP: Bool = false
    ) {
        self.kind = kind
        self.interval = interval
        self.timeout = timeout
        self.rise = rise
        self.fall = fall
        self.retries = retries
        self.retryDelay = retryDelay
        self.connectPort = connectPort
        self.viaVIP = viaVIP
    }
}

public struct HTTPCheck: Sendable, Equatable {
    public var path: String
    public var statusCodes: [Int]
    /// Expected MD5 of the body, lower-case hex (keepalived's `digest`).
    public var digest: String?
    public var host: String?
    public var tls: Bool
    public var verifyCertificate: Bool

    public init(
        path: String = "/", statusCodes: [Int] = [200], digest: String? = nil, host: String? = nil, tls: Bool = false,
        verifyCertificate: Bool = false
    ) {
        self.path = path
        self.statusCodes = statusCodes
        self.digest = digest
        self.host = host
        self.tls = tls
        self.verifyCertificate = verifyCertificate
    }
}

/// `type: udp`: send `payload`, wait for a reply from the server's address and
/// port. An ICMP error (port or host unreachable) fails the attempt at once.
public struct UDPCheck: Sendable, Equatable {
    public var payload: [UInt8]
    /// The reply's first bytes, nibble by nibble (`expect: "0a0bxx"`: x is any nibble).
    public var expect: BytePattern?
    /// Off: silence until the timeout counts as healthy and only an ICMP
    /// error fails (keepalived's UDP_CHECK without `require_reply`).
    public var requireReply: Bool
    public var minimumReplyLength: Int
    public var maximumReplyLength: Int

    public static let largestReply = 65507

    public init(
        payload: [UInt8] = [], expect: BytePattern? = nil, requireReply: Bool = true, minimumReplyLength: Int = 0,
        maximumReplyLength: Int = UDPCheck.largestReply
    ) {
        self.payload = payload
        self.expect = expect
        self.requireReply = requireReply
        self.minimumReplyLength = minimumReplyLength
        self.maximumReplyLength = maximumReplyLength
    }
}

/// `type: dns`: one question; healthy when the reply's rcode is the expected
/// one and, with `requireAnswer`, the answer section holds a record of the
/// asked type (or a CNAME) for the asked name.
public struct DNSCheck: Sendable, Equatable {
    /// Presentation form without the final dot; "" is the root.
    public var name: String
    public var type: DNSRecordType
    public var rcode: DNSResponseCode
    public var requireAnswer: Bool

    public init(
        name: String = "", type: DNSRecordType = .a, rcode: DNSResponseCode = .noError, requireAnswer: Bool = false
    ) {
        self.name = name
        self.type = type
        self.rcode = rcode
        self.requireAnswer = requireAnswer
    }
}
