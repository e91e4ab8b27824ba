/// One real server of one virtual service: what a check result, a status
/// line and a metric are keyed by. The same address and port in two
/// services are two keys (keepalived checks them separately too).
public struct RealServerKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var service: IPVSServiceIdentity
    public var destination: IPVSDestinationKey

    public init(service: IPVSServiceIdentity, destination: IPVSDestinationKey) {
        self.service = service
        self.destination = destination
    }

    public static func < (lhs: RealServerKey, rhs: RealServerKey) -> Bool {
        lhs.service != rhs.service ? lhs.service < rhs.service : lhs.destination < rhs.destination
    }

    /// `TCP 198.18.0.100:80 -> 198.18.1.2:80`.
    public var description: String { "\(service) -> \(destination)" }
}
