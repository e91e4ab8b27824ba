/// What the operator expects of the route to a VIP (`ecmpd verify --expect N`
/// or `--expect-nexthops A,B`): checked against the nexthops the kernel has.
public enum NexthopExpectation: Hashable, Sendable, CustomStringConvertible {
    /// A route with at least one nexthop: the VIP is announced by someone.
    case present
    /// Exactly this many nexthops. Zero means withdrawn: no route at all
    /// (or one without nexthops) is what is expected.
    case count(Int)
    /// Exactly these gateways, one nexthop each; interfaces are not compared
    /// because the directors' addresses already say which LAN they are on
    /// (for IPv6, link-local gateways: each director's own fe80:: address).
    case gateways(Set<IPAddress>)

    /// An item of `--expect-nexthops` that is not an address of the VIP's family.
    public struct InvalidGateway: Error, Sendable, CustomStringConvertible {
        public var item: String
        public var ipv6: Bool
        public var description: String {
            ipv6
                ? "'\(item)' is not an IPv6 address (an IPv6 VIP's nexthops are IPv6, such as fe80::1); list gateways as A,B,..."
                : "'\(item)' is not an IPv4 address (a.b.c.d); list gateways as A,B,..."
        }
    }

    /// Parses `--expect-nexthops`: addresses of the VIP's family (IPv4
    /// unless `ipv6`) separated by commas.
    public static func gateways(parsing text: String, ipv6: Bool = false) throws(InvalidGateway) -> NexthopExpectation {
        var gateways: Set<IPAddress> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = String(
                String(item.drop(while: \.isWhitespace).reversed()).drop(while: \.isWhitespace).reversed())
            let address = ipv6 ? IPv6Address(trimmed).map(IPAddress.v6) : IPv4Address(trimmed).map(IPAddress.v4)
            guard let address else { throw InvalidGateway(item: trimmed, ipv6: ipv6) }
            gateways.insert(address)
        }
        return .gateways(gateways)
    }

    public var description: String {
        switch self {
        case .present: return "at least one nexthop"
        case .count(0): return "no route"
        case .count(let n): return Self.nexthops(n)
        case .gateways(let gateways):
            return "nexthops via " + gateways.sorted().map(\.description).joined(separator: ", ")
        }
    }

    /// Nil when `observed` meets the expectation; otherwise a sentence that
    /// says what was expected, what was found and, for gateways, which are
    /// missing and which are unexpected.
    public func mismatch(in observed: RouteNexthops) -> String? {
        switch self {
        case .present:
            return observed.isEmpty ? "expected at least one nexthop, found none" : nil
        case .count(let expected):
            guard observed.count != expected else { return nil }
            let found = observed.isEmpty ? "none" : "\(observed.count): \(observed)"
            return "expected \(self), found \(found)"
        case .gateways(let expected):
            let found = Set(observed.gateways)
            let connected = observed.nexthops.filter { $0.gateway == nil }
            guard found != expected || !connected.isEmpty || observed.count != expected.count else { return nil }
            var parts = ["expected \(self), found \(observed.isEmpty ? "none" : observed.description)"]
            let missing = expected.subtracting(found).sorted()
            let unexpected = found.subtracting(expected).sorted()
            if !missing.isEmpty { parts.append("missing " + missing.map(\.description).joined(separator: ", ")) }
            if !unexpected.isEmpty {
                parts.append("unexpected " + unexpected.map(\.description).joined(separator: ", "))
            }
            if !connected.isEmpty {
                parts.append("unexpected directly connected " + connected.map(\.description).joined(separator: ", "))
            }
            if missing.isEmpty, unexpected.isEmpty, connected.isEmpty {
                parts.append("a gateway is reached over more than one interface")
            }
            return parts.joined(separator: "; ")
        }
    }

    private static func nexthops(_ n: Int) -> String { n == 1 ? "1 nexthop" : "\(n) nexthops" }
}
