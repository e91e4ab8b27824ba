/// An IPVS table: services, each with its destinations. Read from the kernel
/// the services come in the kernel's dump order and each service's
/// destinations newest first (the kernel prepends them to its list).
public struct IPVSTable: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var service: IPVSService
        public var destinations: [IPVSDestination]

        public init(_ service: IPVSService, destinations: [IPVSDestination] = []) {
            self.service = service
            self.destinations = destinations
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    public var services: [IPVSService] { entries.map(\.service) }

    public subscript(identity: IPVSServiceIdentity) -> Entry? {
        entries.first { $0.service.identity == identity }
    }

    /// The table as configuration only, in canonical order: services by
    /// identity, destinations by key, no `hashed` flag, counters or stats.
    /// Two tables with equal configurations program the same behaviour.
    public var configuration: IPVSTable {
        IPVSTable(
            entries.sorted { $0.service.identity < $1.service.identity }.map { entry in
                Entry(
                    entry.service.configuration,
                    destinations: entry.destinations.map(\.configuration).sorted { $0.key < $1.key })
            })
    }
}
