@testable import ECMPDaemon
import ECMPCore
import ECMPHealth
import Foundation
import Synchronization

/// The controller's edges as tests hold them: kept in memory, inspectable,
/// and shared across a controller restart (as the kernel and the state
/// directory are).

/// lo: the addresses on it, and every add and remove the controller made.
final class FakeLoopback: LoopbackEdge, Sendable {
    struct State {
        var addresses: [PrefixedAddress] = []
        var added: [IPAddress] = []
        var removed: [IPAddress] = []
    }

    let state = Mutex(State())

    /// Places `vip/prefixLength` on lo (a host address by default), as
    /// another program or a previous run would.
    func place(_ vip: IPAddress, prefixLength: Int? = nil) {
        let address = PrefixedAddress(address: vip, prefixLength: prefixLength ?? vip.hostPrefixLength)
        state.withLock { $0.addresses.append(address) }
    }

    var hosts: Set<IPAddress> { state.withLock { Set($0.addresses.filter(\.isHost).map(\.address)) } }

    var changes: (added: [IPAddress], removed: [IPAddress]) { state.withLock { ($0.added, $0.removed) } }

    func addresses() throws -> [PrefixedAddress] { state.withLock { $0.addresses } }

    func add(_ vip: IPAddress) throws {
        state.withLock { state in
            state.added.append(vip)
            let host = PrefixedAddress.host(vip)
            if !state.addresses.contains(host) { state.addresses.append(host) }
        }
    }

    @discardableResult
    func remove(_ vip: IPAddress) throws -> Bool {
        state.withLock { state in
            state.removed.append(vip)
            let before = state.addresses.count
            state.addresses.removeAll { $0 == .host(vip) }
            return state.addresses.count != before
        }
    }
}

struct FakeFailure: Error, CustomStringConvertible {
    var description: String
}

/// The IPVS table: set by the test (observe mode, keepalived's part) or
/// programmed by the controller (managed mode), and a switch that makes
/// every read fail.
final class FakeIPVS: IPVSEdge, Sendable {
    struct State {
        var table = IPVSTable()
        var failing = false
        var tableReads = 0
        var applied: [IPVSChange] = []
    }

    let state = Mutex(State())

    func set(_ table: IPVSTable) { state.withLock { $0.table = table } }
    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }
    var current: IPVSTable { state.withLock { $0.table } }
    var tableReads: Int { state.withLock { $0.tableReads } }
    var applied: [IPVSChange] { state.withLock { $0.applied } }

    func table() throws -> IPVSTable {
        let (table, failing) = state.withLock { state in
            state.tableReads += 1
            return (state.table, state.failing)
        }
        if failing { throw FakeFailure(description: "read IPVS table: Operation not permitted") }
        return table
    }

    func services() throws -> [IPVSService] {
        let (services, failing) = state.withLock { ($0.table.services, $0.failing) }
        if failing { throw FakeFailure(description: "read IPVS services: Operation not permitted") }
        return services
    }

    /// Applies each change to the table, as the kernel would.
    func apply(_ plan: IPVSReconcilePlan) throws {
        state.withLock { state in
            for change in plan.changes {
                state.applied.append(change)
                Self.apply(change, to: &state.table)
            }
        }
    }

    private static func apply(_ change: IPVSChange, to table: inout IPVSTable) {
        let index = table.entries.firstIndex { $0.service.identity == change.service }
        switch change {
        case .addService(let service):
            table.entries.append(IPVSTable.Entry(service))
        case .editService(let service, _):
            if let index { table.entries[index].service = service }
        case .deleteService:
            if let index { table.entries.remove(at: index) }
        case .addDestination(let destination, _), .editDestination(let destination, _, _):
            guard let index else { return }
            table.entries[index].destinations.removeAll { $0.key == destination.key }
            table.entries[index].destinations.append(destination)
        case .deleteDestination(let key, _):
            if let index { table.entries[index].destinations.removeAll { $0.key == key } }
        }
    }
}

/// A state file kept in memory; its stamp moves on every write.
final class MemoryRecord<Record: Sendable>: RecordFile, Sendable {
    private let state = Mutex<(record: Record?, version: Int)>((nil, 0))

    func read() throws -> Record? { state.withLock { $0.record } }

    func write(_ record: Record) throws {
        state.withLock { $0 = (record, $0.version + 1) }
    }

    func stamp() -> FileStamp { FileStamp(version: state.withLock { $0.version }) }

    var record: Record? { state.withLock { $0.record } }
}

/// The routing renders the controller asked for.
final class RecordedRoutingRequests: RoutingRequester, Sendable {
    private let requests = Mutex<[(loopbackCost: Int?, reason: String)]>([])

    func request(_ inputs: RoutingCoordinator.Inputs?, reason: String, after delay: Duration) async {
        requests.withLock { $0.append((inputs?.loopbackCost, reason)) }
    }

    var all: [(loopbackCost: Int?, reason: String)] { requests.withLock { $0 } }
}

/// The events the controller recorded, in order.
final class RecordedEvents: EventRecorder, Sendable {
    private let events = Mutex<[ControllerEvent]>([])

    func record(_ event: ControllerEvent) { events.withLock { $0.append(event) } }

    var all: [ControllerEvent] { events.withLock { $0 } }

    func of(_ kind: ControllerEventKind) -> [ControllerEvent] { all.filter { $0.kind == kind } }
}

/// A monotonic clock that moves only when told, and a wall clock that can
/// also be stepped back and forth, as NTP or an operator may.
final class ManualClock: ControllerClock, Sendable {
    private let start = ContinuousClock.now
    private let state = Mutex<(elapsed: Duration, wall: Date)>((.zero, Date(timeIntervalSince1970: 1_790_000_000)))

    var now: ContinuousClock.Instant { start + state.withLock { $0.elapsed } }
    var wallTime: Date { state.withLock { $0.wall } }

    /// Time passes: both clocks move.
    func advance(_ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock { $0 = ($0.elapsed + duration, $0.wall.addingTimeInterval(seconds)) }
    }

    /// The wall clock is set: the monotonic one does not move.
    func stepWallClock(by seconds: TimeInterval) {
        state.withLock { $0.wall = $0.wall.addingTimeInterval(seconds) }
    }
}

/// What other directors announce, as the last-announcer guard asks it.
final class FakeAnnouncers: AnnouncerSource, Sendable {
    private let state = Mutex<(answer: Bool?, asked: [[IPAddress]])>((nil, []))

    func answer(_ othersAnnounce: Bool?) { state.withLock { $0.answer = othersAnnounce } }
    var asked: [[IPAddress]] { state.withLock { $0.asked } }

    func othersAnnounce(_ vips: [IPAddress]) async -> [IPAddress: Bool?] {
        state.withLock { state in
            state.asked.append(vips)
            return Dictionary(uniqueKeysWithValues: vips.map { ($0, state.answer) })
        }
    }
}

/// Managed mode's verdicts, set by the test; the version moves on each set.
final class FakeChecker: CheckVerdictSource, Sendable {
    private let state = Mutex<(version: Int, verdicts: [RealServerKey: CheckTracker.Verdict])>((1, [:]))

    func set(_ verdicts: [RealServerKey: CheckTracker.Verdict]) {
        state.withLock { $0 = ($0.version + 1, verdicts) }
    }

    var verdictVersion: Int { state.withLock { $0.version } }
    var verdicts: [RealServerKey: CheckTracker.Verdict] { state.withLock { $0.verdicts } }
    func snapshot() -> [RealServerKey: RealServerHealth] { [:] }
    func update(_ targets: [CheckTarget]) {}
}
