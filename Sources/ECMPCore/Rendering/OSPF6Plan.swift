/// Everything ospf6d.conf needs, decided from the config's `ospf6` section
/// and the detected IPv6 networks. Part of `OSPFPlan` (its `ospf6`), made
/// only when the config has IPv6 VIPs: ospf6d runs for them alone.
///
/// OSPFv3 has no `network` statements (RFC 5340 section 2.5): a router
/// announces the prefixes of every interface that runs it. So the VIPs are
/// announced by running ospf6d on a passive lo, where each is a /128, and
/// the networks listed here are what ospf6d will announce from the
/// interfaces, written into the file as a comment for the operator.
public struct OSPF6Plan: Sendable, Equatable {
    /// An IPv6 address on an OSPF interface that is not announced now, and why.
    public struct SkippedAddress: Sendable, Equatable, CustomStringConvertible {
        public var interface: String
        public var address: IPv6Network
        public var reason: String

        public var description: String { "\(address) on \(interface) not listed for ospf6d: \(reason)" }
    }

    public var routerID: IPv4Address
    public var area: OSPFArea
    public var interfaces: [OSPFPlan.Interface]
    /// The usable global prefixes of the OSPF interfaces, host bits cleared, each once.
    public var networks: [IPv6Network]
    /// Tentative, deprecated or duplicate addresses (link-local ones are
    /// never listed and never reported: every interface has one).
    public var skipped: [SkippedAddress]
    /// The IPv6 VIPs, held on lo as /128 (directors only).
    public var vips: [IPv6Address]
    public var loopbackCost: Int
    public var fastConvergence: Bool
    public var maximumPaths: Int
}
