/// One of the ARP settings a direct-routing real server needs, so that it
/// accepts packets for the VIP on lo without answering ARP for it (only the
/// directors may draw the VIP's traffic):
///
/// - `arp_ignore=1`: answer ARP only for addresses on the interface the
///   request came in on (never for lo's VIP);
/// - `arp_announce=2`: never use the VIP as the source of own ARP requests.
///
/// Set on `all` and on `lo`: the kernel applies the larger of `all` and the
/// interface's value for both settings, so `all` covers every NIC.
public struct RealServerSysctl: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Setting: String, Sendable, CaseIterable {
        case arpIgnore = "arp_ignore"
        case arpAnnounce = "arp_announce"

        /// The value `realserver up` writes.
        public var wanted: Int {
            switch self {
            case .arpIgnore: return 1
            case .arpAnnounce: return 2
            }
        }
    }

    public var interface: String
    public var setting: Setting

    public init(interface: String, setting: Setting) {
        self.interface = interface
        self.setting = setting
    }

    /// The four settings, in the order `up` writes them.
    public static let all: [RealServerSysctl] = ["all", "lo"].flatMap { interface in
        Setting.allCases.map { RealServerSysctl(interface: interface, setting: $0) }
    }

    public var wanted: Int { setting.wanted }

    /// `net.ipv4.conf.lo.arp_ignore`, as sysctl(8) names it.
    public var key: String { "net.ipv4.conf.\(interface).\(setting.rawValue)" }

    /// The file under /proc/sys; per network namespace.
    public var path: String { "/proc/sys/net/ipv4/conf/\(interface)/\(setting.rawValue)" }

    public init?(key: String) {
        guard let found = Self.all.first(where: { $0.key == key }) else { return nil }
        self = found
    }

    public var description: String { key }

    public static func < (lhs: RealServerSysctl, rhs: RealServerSysctl) -> Bool { lhs.key < rhs.key }
}
