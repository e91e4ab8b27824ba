/// The minimal ordered list of kernel requests that turns an actual IPVS
/// table into a desired one. Pure: it reads two tables and returns steps, so
/// it runs (and is tested) without root or a kernel.
///
/// Rules, each forced by the kernel's behaviour:
/// - Anything that can be edited in place is edited: a scheduler or weight
///   change never becomes delete + add, which would drop the service's or
///   destination's connections and counters.
/// - Destinations are added in canonical order (address, then port). The
///   `mh` scheduler fills its lookup table from the destination list, whose
///   order is insertion order, so every director must insert alike to send
///   a flow to the same real server (ip_vs_mh.c walks `svc->destinations`;
///   docs/fleet-consistency.md).
///   Directors that start from the same table therefore agree; a director
///   whose history differs (a destination deleted and re-added) can hold
///   another order, which is why taking a real server out of service is
///   better done with weight 0 than by deleting it.
/// - Unwanted services go first; within a service, destinations are
///   deleted, then edited, then added. Everything follows canonical order,
///   so a plan is deterministic for equal inputs.
/// - Services that are neither desired nor owned are left alone.
public struct IPVSReconcilePlan: Hashable, Sendable, CustomStringConvertible {
    public var changes: [IPVSChange]

    public init(changes: [IPVSChange]) { self.changes = changes }

    /// Plans the way from `actual` to `desired`. If a table lists a service
    /// or destination twice, its first entry counts.
    public init(desired: IPVSTable, actual: IPVSTable, ownership: IPVSOwnership) {
        let wanted = Self.index(desired)
        let present = Self.index(actual)
        var changes: [IPVSChange] = []

        for identity in present.keys.sorted() where wanted[identity] == nil && ownership.owns(identity) {
            changes.append(.deleteService(identity))
        }
        for identity in wanted.keys.sorted() {
            let target = wanted[identity]!
            guard let current = present[identity] else {
                changes.append(.addService(target.service.configuration))
                for destination in target.destinations.values.sorted(by: { $0.key < $1.key }) {
                    changes.append(.addDestination(destination.configuration, service: identity))
                }
                continue
            }
            let serviceChanges = target.service.settings(differingFrom: current.service)
            if !serviceChanges.isEmpty {
                changes.append(.editService(target.service.configuration, changed: serviceChanges))
            }
            for key in current.destinations.keys.sorted() where target.destinations[key] == nil {
                changes.append(.deleteDestination(key, service: identity))
            }
            var additions: [IPVSDestination] = []
            for (key, destination) in target.destinations.sorted(by: { $0.key < $1.key }) {
                guard let existing = current.destinations[key] else {
                    additions.append(destination)
                    continue
                }
                let destinationChanges = destination.settings(differingFrom: existing)
                if !destinationChanges.isEmpty {
                    changes.append(
                        .editDestination(destination.configuration, service: identity, changed: destinationChanges))
                }
            }
            changes += additions.map { .addDestination($0.configuration, service: identity) }
        }
        self.changes = changes
    }

    public var isEmpty: Bool { changes.isEmpty }

    /// One step per line, in order.
    public var description: String {
        changes.isEmpty ? "no changes" : changes.map(\.description).joined(separator: "\n")
    }

    private struct IndexedEntry {
        var service: IPVSService
        var destinations: [IPVSDestinationKey: IPVSDestination]
    }

    private static func index(_ table: IPVSTable) -> [IPVSServiceIdentity: IndexedEntry] {
        var result: [IPVSServiceIdentity: IndexedEntry] = [:]
        for entry in table.entries where result[entry.service.identity] == nil {
            let destinations = Dictionary(
                entry.destinations.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
            result[entry.service.identity] = IndexedEntry(service: entry.service, destinations: destinations)
        }
        return result
    }
}
