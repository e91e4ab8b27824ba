/// Which side of the OSPF/ECMP topology a rendered configuration is for.
public enum RoutingRole: String, Sendable, CaseIterable {
    /// Announces VIP stubs from lo, never becomes DR, keeps OSPF routes out
    /// of its kernel table.
    case director
    /// The upstream router: DR, installs the multipath VIP routes.
    case router
}
