import CNetlink
import ECMPCore

/// Programs and reads the kernel's IPVS table over generic netlink.
///
/// A class because it owns a socket, freed when the client goes away. It is
/// deliberately not `Sendable` and not an actor: calls block for the
/// kernel's answer (microseconds), and one owner, such as the daemon's
/// reconciler actor, issues them in order. The family is resolved once and
/// the socket reused, so programming a large table costs one round trip per
/// change and nothing more (`ipvsadm-restore` opens a socket and resolves
/// the family for every line).
///
/// Every failure is a `NetlinkError` carrying the kernel's own errno.
public final class IPVSClient {
    private let socket: GenericNetlinkSocket

    /// Connects and resolves the "IPVS" generic netlink family, which
    /// exists only while the ip_vs module is loaded (per network namespace).
    /// Fails with `isIPVSUnavailable` when it does not.
    public init() throws(NetlinkError) {
        do {
            socket = try GenericNetlinkSocket(family: IPVSWireFormat.familyName, version: IPVSWireFormat.familyVersion)
        } catch {
            let isMissingFamily = error.errno == ENOENT && error.failedCall == nil
            throw NetlinkError(
                operation: "resolve generic netlink family", object: IPVSWireFormat.familyName,
                error, subject: isMissingFamily ? .ipvsFamily : .ipvs)
        }
    }

    // MARK: Reading

    public func info() throws(NetlinkError) -> IPVSInfo {
        try fetch(IPVS_CMD_GET_INFO, "read", "IPVS info", subject: .ipvs, decode: IPVSWireFormat.info(in:))
    }

    /// All services, in the kernel's order, with statistics.
    public func services() throws(NetlinkError) -> [IPVSService] {
        var services: [IPVSService] = []
        try perform("list", "IPVS services", subject: .ipvs) { () throws(KernelErrno) in
            try collect(IPVS_CMD_GET_SERVICE, into: &services, build: { _ throws(KernelErrno) in }) {
                IPVSWireFormat.service(in: $0)
            }
        }
        return services
    }

    /// One service; fails with ESRCH ("no such service") if it is absent.
    public func service(_ identity: IPVSServiceIdentity) throws(NetlinkError) -> IPVSService {
        try fetch(
            IPVS_CMD_GET_SERVICE, "look up service", identity.description, subject: .ipvsService(scheduler: nil),
            build: { message throws(KernelErrno) in
                try IPVSWireFormat.putServiceNest(identifying: identity, into: message)
            },
            decode: IPVSWireFormat.service(in:))
    }

    /// The destinations of one service, newest first (the kernel's list
    /// order). Looks the service up first: the kernel answers a destination
    /// dump of a missing service with an empty list, not an error, and an
    /// empty answer must not be mistaken for "no real servers".
    public func destinations(of identity: IPVSServiceIdentity) throws(NetlinkError) -> [IPVSDestination] {
        _ = try service(identity)
        return try dumpDestinations(of: identity)
    }

    /// The whole table: one service dump, then one destination dump per
    /// service. A service deleted between the two shows no destinations;
    /// the next read repairs that.
    public func table() throws(NetlinkError) -> IPVSTable {
        var entries: [IPVSTable.Entry] = []
        for service in try services() {
            entries.append(IPVSTable.Entry(service, destinations: try dumpDestinations(of: service.identity)))
        }
        return IPVSTable(entries)
    }

    public func timeouts() throws(NetlinkError) -> IPVSTimeouts {
        try fetch(IPVS_CMD_GET_CONFIG, "read", "IPVS timeouts", subject: .ipvs, decode: IPVSWireFormat.timeouts(in:))
    }

    // MARK: Writing

    public func addService(_ service: IPVSService) throws(NetlinkError) {
        try send(
            IPVS_CMD_NEW_SERVICE, "add service", service.identity.description,
            subject: .ipvsService(scheduler: service.scheduler)
        ) { message throws(KernelErrno) in
            try IPVSWireFormat.putServiceNest(service, into: message)
        }
    }

    /// Sets every setting of an existing service to `service`'s; the kernel
    /// swaps the scheduler in place, keeping destinations and connections.
    public func editService(_ service: IPVSService) throws(NetlinkError) {
        try send(
            IPVS_CMD_SET_SERVICE, "edit service", service.identity.description,
            subject: .ipvsService(scheduler: service.scheduler)
        ) { message throws(KernelErrno) in
            try IPVSWireFormat.putServiceNest(service, into: message)
        }
    }

    /// Deletes a service with its destinations.
    public func deleteService(_ identity: IPVSServiceIdentity) throws(NetlinkError) {
        try send(
            IPVS_CMD_DEL_SERVICE, "delete service", identity.description,
            subject: .ipvsService(scheduler: nil)
        ) { message throws(KernelErrno) in
            try IPVSWireFormat.putServiceNest(identifying: identity, into: message)
        }
    }

    public func addDestination(_ destination: IPVSDestination, to service: IPVSServiceIdentity) throws(NetlinkError) {
        try send(
            IPVS_CMD_NEW_DEST, "add destination", "\(destination.key) to \(service)",
            subject: .ipvsDestination
        ) { message throws(KernelErrno) in
            try IPVSWireFormat.putServiceNest(identifying: service, into: message)
            try IPVSWireFormat.putDestinationNest(destination, into: message)
        }
    }

    /// Sets forwarding, weight and thresholds of an existing destination in
    /// place: its connections and counters survive, unlike delete + add.
    public func editDestination(_ destination: IPVSDestination, of service: IPVSServiceIdentity) throws(NetlinkError) {
        try send(
            IPVS_CMD_SET_DEST, "edit destination", "\(destination.key) of \(service)",
            subject: .ipvsDestination
        ) { message throws(KernelErrno) in
            try IPVSWireFormat.putServiceNest(identifying: service, into: message)
            try IPVSWireFormat.putDestinationNest(destination, into: message)
        }
    }

    public func deleteDestination(_ key: IPVSDestinationKey, from service: IPVSServiceIdentity) throws(NetlinkError) {
        try send(
            IPVS_CMD_DEL_DEST, "delete destination", "\(key) from \(service)",
            subject: .ipvsDestination
        ) { message throws(KernelErrno) in
            try IPVSWireFormat.putServiceNest(identifying: service, into: message)
            try IPVSWireFormat.putDestinationNest(identifying: key, into: message)
        }
    }

    /// Deletes every service, also those other programs created.
    public func flush() throws(NetlinkError) {
        try send(IPVS_CMD_FLUSH, "flush", "IPVS table", subject: .ipvs) { _ throws(KernelErrno) in }
    }

    /// Sets the connection timeouts; a 0 field leaves that timeout unchanged.
    public func setTimeouts(_ timeouts: IPVSTimeouts) throws(NetlinkError) {
        try send(IPVS_CMD_SET_CONFIG, "set", "IPVS timeouts (\(timeouts))", subject: .ipvs) {
            message throws(KernelErrno) in
            try IPVSWireFormat.putTimeouts(timeouts, into: message)
        }
    }

    /// Applies a plan's steps in order, one request each. Stops at the first
    /// failure and throws it; the steps before it stay applied, and since a
    /// plan is always computed from what the kernel reports, the next
    /// reconcile cycle plans from there.
    public func apply(_ plan: IPVSReconcilePlan) throws(NetlinkError) {
        for change in plan.changes {
            switch change {
            case .addService(let service): try addService(service)
            case .editService(let service, _): try editService(service)
            case .deleteService(let identity): try deleteService(identity)
            case .addDestination(let destination, let service): try addDestination(destination, to: service)
            case .editDestination(let destination, let service, _): try editDestination(destination, of: service)
            case .deleteDestination(let key, let service): try deleteDestination(key, from: service)
            }
        }
    }

    // MARK: Plumbing

    private func dumpDestinations(of identity: IPVSServiceIdentity) throws(NetlinkError) -> [IPVSDestination] {
        var destinations: [IPVSDestination] = []
        try perform("list destinations of", identity.description, subject: .ipvsService(scheduler: nil)) {
            () throws(KernelErrno) in
            try collect(
                IPVS_CMD_GET_DEST, into: &destinations,
                build: { message throws(KernelErrno) in
                    try IPVSWireFormat.putServiceNest(identifying: identity, into: message)
                }
            ) {
                IPVSWireFormat.destination(in: $0, serviceFamily: identity.family)
            }
        }
        return destinations
    }

    /// Sends a plain request answered by one reply and decodes it; a reply
    /// that is missing or unreadable is EPROTO.
    private func fetch<Value>(
        _ command: Int, _ operation: String, _ object: String, subject: NetlinkError.Subject,
        build: (GenericNetlinkMessage) throws(KernelErrno) -> Void = { _ in },
        decode: (GenericNetlinkAttributes) -> Value?
    ) throws(NetlinkError) -> Value {
        var value: Value?
        try perform(operation, object, subject: subject) { () throws(KernelErrno) in
            try withoutActuallyEscaping(decode) { decode throws(KernelErrno) in
                try socket.exchange(command, maxAttribute: IPVSWireFormat.maxReplyAttribute, build: build) { reply in
                    value = decode(reply)
                }
            }
            guard value != nil else { throw KernelErrno(EPROTO) }
        }
        return value!
    }

    /// Dumps `command` and decodes every message; one undecodable message
    /// fails the whole dump (EPROTO) rather than silently shrinking a table
    /// the planner would then "repair".
    private func collect<Value>(
        _ command: Int, into values: inout [Value],
        build: (GenericNetlinkMessage) throws(KernelErrno) -> Void,
        decode: (GenericNetlinkAttributes) -> Value?
    ) throws(KernelErrno) {
        var decoded: [Value] = []
        var unreadable = 0
        try withoutActuallyEscaping(decode) { decode throws(KernelErrno) in
            try socket.exchange(command, kind: .dump, maxAttribute: IPVSWireFormat.maxReplyAttribute, build: build) {
                reply in
                if let value = decode(reply) { decoded.append(value) } else { unreadable += 1 }
            }
        }
        guard unreadable == 0 else { throw KernelErrno(EPROTO) }
        values = decoded
    }

    private func send(
        _ command: Int, _ operation: String, _ object: String, subject: NetlinkError.Subject,
        build: (GenericNetlinkMessage) throws(KernelErrno) -> Void
    ) throws(NetlinkError) {
        try perform(operation, object, subject: subject) { () throws(KernelErrno) in
            try socket.exchange(command, build: build)
        }
    }

    /// Runs one exchange and names what it attempted on what if it fails.
    private func perform(
        _ operation: String, _ object: String, subject: NetlinkError.Subject,
        _ body: () throws(KernelErrno) -> Void
    ) throws(NetlinkError) {
        do {
            try body()
        } catch {
            throw NetlinkError(operation: operation, object: object, error, subject: subject)
        }
    }
}
