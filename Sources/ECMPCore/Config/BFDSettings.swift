/// BFD between the directors and the router (`ospf.bfd`): bfdd runs beside
/// ospfd, `ip ospf bfd` on each OSPF interface asks it for a session with
/// every neighbour, and a session that goes down takes the neighbour down
/// at once instead of after the dead interval.
///
/// The defaults, 300 ms × 3 without echo, detect a dead peer in about
/// 900 ms. Measured on a 2-core host with the load average above 8 (a
/// Swift build beside the lab), 100 ms × 3 held too, but it leaves no
/// room for a director whose CPU is busy with IPVS and health checks:
/// one late packet burst of 300 ms drops a healthy director and moves
/// its flows. 300 ms × 3 is what MetalLB ships; keepalived's 10 ms × 5
/// assumes a dedicated core. docs/benchmarks.md has the figures.
public struct BFDSettings: Sendable, Equatable {
    public var enabled: Bool
    /// The slowest rate at which this end wants to receive control packets.
    public var receiveIntervalMilliseconds: Int
    /// The fastest rate at which this end sends control packets.
    public var transmitIntervalMilliseconds: Int
    /// How many intervals without a packet declare the peer down.
    public var detectMultiplier: Int
    /// Echo mode: the peer's kernel loops echo packets back through its
    /// forwarding path. Off by default: echo goes on while a director's
    /// userland is frozen (the kernel answers it), so only the control
    /// packets, slower with echo on, would notice a hung director.
    public var echoMode: Bool

    public static let intervalRange = 10...60000
    public static let multiplierRange = 2...255

    public init(
        enabled: Bool = false, receiveIntervalMilliseconds: Int = 300, transmitIntervalMilliseconds: Int = 300,
        detectMultiplier: Int = 3, echoMode: Bool = false
    ) {
        self.enabled = enabled
        self.receiveIntervalMilliseconds = receiveIntervalMilliseconds
        self.transmitIntervalMilliseconds = transmitIntervalMilliseconds
        self.detectMultiplier = detectMultiplier
        self.echoMode = echoMode
    }

    /// The longest this end waits before it declares the peer down, when
    /// both ends use these settings (RFC 5880 6.8.4).
    public var detectionTimeMilliseconds: Int {
        max(receiveIntervalMilliseconds, transmitIntervalMilliseconds) * detectMultiplier
    }

    /// The profile name in bfdd.conf that `ip ospf bfd profile` refers to.
    public static let profileName = "ecmpd"
}
