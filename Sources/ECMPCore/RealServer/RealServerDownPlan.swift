/// What `realserver down` undoes, from the record `up` kept: the VIPs it
/// added (never one that was on lo before), then — once none of its VIPs
/// is left — each sysctl back to its value from before the first `up`.
/// Addresses go first so the box never answers ARP for a VIP still on lo.
///
/// A sysctl someone changed after `up` (it no longer holds the value `up`
/// wrote) is left alone: restoring would overwrite a newer decision.
public struct RealServerDownPlan: Sendable, Equatable {
    public var removals: [IPAddress]
    /// Requested VIPs on lo that `up` did not add: left in place.
    public var notAddedByEcmpd: [IPAddress]
    public var sysctlRestores: [RealServerSysctlChange]
    /// Already at the recorded previous value (`from == to`).
    public var sysctlsInPlace: [RealServerSysctlChange]
    /// Changed by someone else since `up`: left at their current value.
    public var sysctlsChangedSinceUp: [RealServerSysctlChange]
    /// VIPs `up` added that stay (not named in this `down`); while any
    /// remain, the sysctls stay too.
    public var remainingVIPs: [IPAddress]
    /// The record to keep, or nil when everything was undone (the state
    /// file is then deleted).
    public var record: RealServerRecord?

    /// `vips` nil means every VIP `up` added.
    public init(
        vips: [IPAddress]?, onLoopback: [PrefixedAddress], sysctls current: [RealServerSysctl: Int],
        record: RealServerRecord?
    ) {
        let present = Set(onLoopback.filter(\.isHost).map(\.address))
        let added = record?.added ?? []
        let requested = vips.map(Set.init) ?? added
        removals = requested.intersection(added).intersection(present).sorted()
        notAddedByEcmpd = requested.subtracting(added).intersection(present).sorted()
        // Recorded VIPs no longer on lo are gone already: forget them.
        remainingVIPs = added.subtracting(requested).intersection(present).sorted()
        sysctlRestores = []
        sysctlsInPlace = []
        sysctlsChangedSinceUp = []
        guard let record else {
            self.record = nil
            return
        }
        guard remainingVIPs.isEmpty else {
            self.record = RealServerRecord(previousSysctls: record.previousSysctls, addedVIPs: remainingVIPs)
            return
        }
        let previous = record.previous
        for sysctl in RealServerSysctl.all {
            guard let before = previous[sysctl] else { continue }
            let value = current[sysctl] ?? before
            if value == before {
                sysctlsInPlace.append(RealServerSysctlChange(sysctl: sysctl, from: value, to: value))
            } else if value == sysctl.wanted {
                sysctlRestores.append(RealServerSysctlChange(sysctl: sysctl, from: value, to: before))
            } else {
                sysctlsChangedSinceUp.append(RealServerSysctlChange(sysctl: sysctl, from: value, to: before))
            }
        }
        self.record = nil
    }

    public var isEmpty: Bool { removals.isEmpty && sysctlRestores.isEmpty }
}
