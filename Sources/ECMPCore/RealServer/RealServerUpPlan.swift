/// What `realserver up` does, from what is there now and what an earlier
/// `up` recorded: sysctls first, then addresses, so there is never a moment
/// with the VIP on lo and the box still answering ARP for it.
///
/// Idempotent: a setting already at its value is not written, a VIP already
/// on lo as /32 (/128) is not added, and the previous values recorded by the first
/// `up` are kept, so `down` restores what was there before any of them.
public struct RealServerUpPlan: Sendable, Equatable {
    public struct AddressInPlace: Sendable, Equatable {
        public var vip: IPAddress
        /// Whether an earlier `up` added it (so `down` removes it).
        public var addedByEcmpd: Bool

        public init(vip: IPAddress, addedByEcmpd: Bool) {
            self.vip = vip
            self.addedByEcmpd = addedByEcmpd
        }
    }

    public var sysctlWrites: [RealServerSysctlChange]
    /// Settings already at the wanted value.
    public var sysctlsInPlace: [RealServerSysctl]
    public var additions: [IPAddress]
    /// VIPs already on lo as a host address (/32 or /128).
    public var addressesInPlace: [AddressInPlace]
    /// The record to write before changing anything.
    public var record: RealServerRecord

    public init(
        vips: [IPAddress], onLoopback: [PrefixedAddress], sysctls current: [RealServerSysctl: Int],
        record earlier: RealServerRecord?
    ) {
        var previous = earlier?.previousSysctls ?? [:]
        sysctlWrites = []
        sysctlsInPlace = []
        for sysctl in RealServerSysctl.all {
            let value = current[sysctl] ?? 0
            if previous[sysctl.key] == nil { previous[sysctl.key] = value }
            if value == sysctl.wanted {
                sysctlsInPlace.append(sysctl)
            } else {
                sysctlWrites.append(RealServerSysctlChange(sysctl: sysctl, from: value, to: sysctl.wanted))
            }
        }
        let present = Set(onLoopback.filter(\.isHost).map(\.address))
        let recorded = earlier?.added ?? []
        let wanted = Array(Set(vips)).sorted()
        additions = wanted.filter { !present.contains($0) }
        addressesInPlace = wanted.filter { present.contains($0) }.map {
            AddressInPlace(vip: $0, addedByEcmpd: recorded.contains($0))
        }
        // Recorded VIPs no longer on lo stay recorded only if re-added now.
        let stillOurs = recorded.filter { present.contains($0) }
        record = RealServerRecord(previousSysctls: previous, addedVIPs: Array(stillOurs.union(additions)))
    }

    public var isEmpty: Bool { sysctlWrites.isEmpty && additions.isEmpty }
}
