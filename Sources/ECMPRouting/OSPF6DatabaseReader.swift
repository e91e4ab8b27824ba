import ECMPCore

/// Reads ospf6d's router-id and intra-area-prefix LSAs through vtysh
/// (`VtyshQuery`): both commands in one run (`-c` twice), one process start.
public struct OSPF6DatabaseReader: Sendable {
    public var query: VtyshQuery

    /// 5 s, as `OSPFDatabaseReader`'s: a reader that gives up too soon lets
    /// the last announcer withdraw.
    public init(vtysh: String = "/usr/bin/vtysh", pathspace: String? = nil, timeout: Duration = .seconds(5)) {
        query = VtyshQuery(
            vtysh: vtysh, pathspace: pathspace, timeout: timeout,
            commands: ["show ipv6 ospf6 json", "show ipv6 ospf6 database intra-prefix detail json"])
    }

    public typealias Failure = VtyshQuery.Failure

    public var argv: [String] { query.argv }

    public func read() throws(Failure) -> OSPF6PrefixAnnouncements {
        try query.read { try OSPF6PrefixAnnouncements(vtyshOutput: $0) }
    }
}
