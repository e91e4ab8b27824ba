/// What the kernel keys an IPVS virtual service by: protocol, address and
/// port, or a firewall mark and family. Everything else about a service
/// (scheduler, flags, persistence) can be edited in place; a different
/// identity is a different service.
///
/// Ordered canonically (TCP, UDP, SCTP, then fwmark; then address, port), so
/// every director walks services in the same order.
public enum IPVSServiceIdentity: Hashable, Comparable, Sendable, CustomStringConvertible {
    case tcp(IPAddress, port: UInt16)
    case udp(IPAddress, port: UInt16)
    case sctp(IPAddress, port: UInt16)
    /// A mark set by iptables/nftables. IPVS treats mark 0 as "no mark", so
    /// a usable fwmark service has a non-zero mark.
    case fwmark(UInt32, family: IPVSAddressFamily)

    public var family: IPVSAddressFamily {
        switch self {
        case .tcp(let address, _), .udp(let address, _), .sctp(let address, _): return IPVSAddressFamily(of: address)
        case .fwmark(_, let family): return family
        }
    }

    /// The virtual address and port; nil for fwmark services.
    public var endpoint: (address: IPAddress, port: UInt16)? {
        switch self {
        case .tcp(let address, let port), .udp(let address, let port), .sctp(let address, let port):
            return (address, port)
        case .fwmark: return nil
        }
    }

    /// The protocol label `ipvsadm -L` prints: TCP, UDP, SCTP or FWM.
    public var protocolName: String {
        switch self {
        case .tcp: return "TCP"
        case .udp: return "UDP"
        case .sctp: return "SCTP"
        case .fwmark: return "FWM"
        }
    }

    /// `TCP 198.18.0.1:80`, `UDP [2001:db8::1]:53`, `FWM 7`, `FWM 7 IPv6`:
    /// the forms an operator knows from `ipvsadm -Ln`.
    public var description: String {
        switch self {
        case .tcp(let address, let port), .udp(let address, let port), .sctp(let address, let port):
            return "\(protocolName) \(IPVSDestinationKey.format(address, port: port))"
        case .fwmark(let mark, let family):
            return family == .ipv4 ? "FWM \(mark)" : "FWM \(mark) IPv6"
        }
    }

    private var sortKey: (Int, IPAddress, UInt32) {
        switch self {
        case .tcp(let address, let port): return (0, address, UInt32(port))
        case .udp(let address, let port): return (1, address, UInt32(port))
        case .sctp(let address, let port): return (2, address, UInt32(port))
        case .fwmark(let mark, let family):
            // Families first so all IPv4 marks precede all IPv6 marks.
            return (family == .ipv4 ? 3 : 4, .v4(IPv4Address(0)), mark)
        }
    }

    public static func < (lhs: IPVSServiceIdentity, rhs: IPVSServiceIdentity) -> Bool {
        lhs.sortKey < rhs.sortKey
    }
}
