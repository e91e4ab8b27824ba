/// Whether every piece of the real-server side is in place: each VIP as a
/// host address on lo (/32 or /128) and the four ARP sysctls at the values `up` writes.
public struct RealServerStatus: Sendable, Equatable {
    public struct Piece: Sendable, Equatable, CustomStringConvertible {
        public var name: String
        public var expected: String
        public var actual: String

        public var isInPlace: Bool { expected == actual }

        public var description: String {
            isInPlace ? "\(name): \(actual), ok" : "\(name): \(actual), expected \(expected)"
        }
    }

    public var pieces: [Piece]

    public init(vips: [IPAddress], onLoopback: [PrefixedAddress], sysctls current: [RealServerSysctl: Int]) {
        let present = Set(onLoopback.filter(\.isHost).map(\.address))
        pieces = Array(Set(vips)).sorted().map { vip in
            Piece(
                name: "\(PrefixedAddress.host(vip)) on lo", expected: "present",
                actual: present.contains(vip) ? "present" : "missing")
        }
        pieces += RealServerSysctl.all.map { sysctl in
            Piece(
                name: sysctl.key, expected: "\(sysctl.wanted)", actual: current[sysctl].map { "\($0)" } ?? "unreadable")
        }
    }

    public var isComplete: Bool { pieces.allSatisfy(\.isInPlace) }
    public var missing: [Piece] { pieces.filter { !$0.isInPlace } }
}
