/// How IPVS hands a packet to a real server (`IP_VS_CONN_F_*` forwarding
/// methods in include/uapi/linux/ip_vs.h; the raw values are the kernel's).
public enum IPVSForwardingMethod: UInt32, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// NAT: the director rewrites the destination; replies must come back through it.
    case masquerade = 0
    /// The real server is this host.
    case local = 1
    /// IP-in-IP encapsulation to the real server.
    case tunnel = 2
    /// Direct routing: the frame goes to the real server's MAC unchanged,
    /// and the real server answers the client itself.
    case directRoute = 3
    /// Cache bypass; not settable from `ipvsadm`, but the kernel accepts it.
    case bypass = 4

    /// The `Forward` column of `ipvsadm -Ln`.
    public var description: String {
        switch self {
        case .masquerade: return "Masq"
        case .local: return "Local"
        case .tunnel: return "Tunnel"
        case .directRoute: return "Route"
        case .bypass: return "Bypass"
        }
    }
}
