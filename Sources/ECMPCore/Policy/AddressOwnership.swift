/// Which host addresses on lo (a /32, or a /128 for an IPv6 VIP) are ecmpd's to add and remove. ecmpd shares lo
/// with 127.0.0.1/8 and ::1/128, with addresses an operator or another program put
/// there, and with its own earlier runs, so it decides from three inputs:
/// the configured VIPs, the set it recorded as owned (a small file the
/// daemon keeps), and what is on lo now.
///
/// - A configured VIP is ecmpd's, also when it was on lo before ecmpd ran
///   (it is adopted, not removed and re-added).
/// - A recorded VIP no longer configured is still ecmpd's while its /32 is
///   on lo: ecmpd put it there, so ecmpd takes it away.
/// - Everything else on lo is foreign and never touched, and so is a
///   configured VIP held on lo with another prefix length than its host one: that address
///   is someone else's, and removing a host address would not withdraw it.
///
/// The record must be written before an address is added, so a crash in
/// between leaves an owned address, never a leaked one.
public struct AddressOwnership: Sendable, Equatable {
    /// Configured VIPs already on lo as host addresses that the record did not list.
    public var adopted: Set<IPAddress>
    /// Recorded VIPs on lo as host addresses that are no longer configured: to remove.
    public var stale: Set<IPAddress>
    /// Recorded VIPs neither configured nor on lo: dropped from the record.
    public var forgotten: Set<IPAddress>
    /// Configured VIPs that are on lo with a prefix other than /32 or /128.
    public var conflicts: [PrefixedAddress]
    /// Addresses on lo that are not ecmpd's.
    public var foreign: [PrefixedAddress]
    /// The set to record as owned from now on.
    public var owned: Set<IPAddress>

    public init(configured: Set<IPAddress>, recorded: Set<IPAddress>, onLoopback: [PrefixedAddress]) {
        let hosts = Set(onLoopback.filter(\.isHost).map(\.address))
        conflicts = onLoopback.filter {
            !$0.isHost && configured.contains($0.address) && !hosts.contains($0.address)
        }
        .sorted()
        let conflicting = Set(conflicts.map(\.address))
        let managed = configured.subtracting(conflicting)
        adopted = managed.intersection(hosts).subtracting(recorded)
        stale = recorded.subtracting(configured).intersection(hosts)
        forgotten = recorded.subtracting(configured).subtracting(hosts)
            .union(recorded.intersection(conflicting))
        owned = managed.union(stale)
        let owned = owned
        foreign = onLoopback.filter { !($0.isHost && owned.contains($0.address)) }
            .sorted()
    }

    /// Whether ecmpd may remove `vip`'s host address from lo.
    public func mayRemove(_ vip: IPAddress) -> Bool { owned.contains(vip) }
}
