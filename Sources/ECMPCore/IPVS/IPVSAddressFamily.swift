/// The address family of an IPVS service. An address-keyed service takes it
/// from its address; a firewall-mark service has no address, so IPVS keys it
/// by (mark, family): `FWM 7` and `FWM 7 IPv6` are two services.
public enum IPVSAddressFamily: Hashable, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    case ipv4
    case ipv6

    public init(of address: IPAddress) {
        switch address {
        case .v4: self = .ipv4
        case .v6: self = .ipv6
        }
    }

    public var description: String { self == .ipv4 ? "IPv4" : "IPv6" }
}
