import ECMPCore
import ECMPHealth
import Foundation
import Logging

/// The reconcile loop's state and one cycle of it: dump IPVS, count each
/// VIP's usable backends, step each VIP's policy, apply operator drains,
/// and make lo match (only addresses ecmpd owns). Level-triggered: every
/// cycle re-reads lo and IPVS, so a missed change is repaired on the next.
/// Managed mode reads the whole IPVS table and plans again when a check
/// verdict or the config changed, when the kernel's services differ from
/// the plan (a flush, another program), and at least every
/// `ManagedPlanCache.auditInterval`; other cycles read the services only.
///
/// Nothing here waits on the routing daemon or the event database: routing
/// work goes to `RoutingCoordinator` on its own thread, events to
/// `EventSink`, so a slow vtysh or a locked SQLite file never delays a
/// withdrawal. Every edge (lo, IPVS, the state records, routing, events,
/// the clock) comes in through `ControllerEdges`, so the decisions run in
/// tests with fakes and a manual clock.
public actor Controller {
    private var loaded: LoadedConfig
    private var states: [IPAddress: VIPState] = [:]
    private var counts: [IPAddress: BackendCounter.Count] = [:]
    private var lastChange: [IPAddress: Date] = [:]
    private var drains = OperatorDrains()
    private var recorded: Set<IPAddress> = []
    private var reportedConflicts: Set<IPAddress> = []
    private var lastDumpError: String?
    /// Managed mode: quorum held per service (keepalived's quorum_state).
    private var quorum: [IPVSServiceIdentity: Bool] = [:]
    /// Managed mode: the last full cycle whose writes all succeeded.
    private var managedPlan = ManagedPlanCache()

    private let checker: (any CheckVerdictSource)?
    /// Managed mode's configured real servers with their labels, made again
    /// only when the configuration changes.
    private var realServerEntries: [RealServerView.Entry]

    private let clock: any ControllerClock
    private let loopback: any LoopbackEdge
    private let ipvs: any IPVSEdge
    private let ownedFile: any RecordFile<LoopbackRecord>
    private let drainFile: any RecordFile<DrainRecord>
    private let announcers: (any AnnouncerSource)?
    private let events: any EventRecorder
    private let status: ControllerStatus
    private let metrics: ControllerMetrics
    private let routing: any RoutingRequester
    private let logger: Logger

    /// Every edge comes in `edges`: `ControllerEdges.system` in the daemon,
    /// fakes in tests.
    public init(
        loaded: LoadedConfig, edges: ControllerEdges, status: ControllerStatus, metrics: ControllerMetrics,
        logger: Logger
    ) {
        self.loaded = loaded
        checker = edges.checker
        realServerEntries = edges.checker == nil ? [] : RealServerView.entries(for: loaded.config)
        loopback = edges.loopback
        ipvs = edges.ipvs
        ownedFile = edges.ownedRecord
        drainFile = edges.drainRecord
        events = edges.events
        routing = edges.routing
        announcers = edges.announcers
        clock = edges.clock
        self.status = status
        self.metrics = metrics
        self.logger = logger
    }

    private var config: Config { loaded.config }

    /// The routing configs as they should be now: the drain cost on lo
    /// while the whole director is drained.
    public var routingInputs: RoutingCoordinator.Inputs {
        RoutingCoordinator.Inputs(
            loaded: loaded,
            loopbackCost: drains.record.director ? config.controller.drainCost : nil)
    }

    // MARK: Start, cycle, stop

    /// Adopts lo as it is: a VIP already there stays (no flap on restart),
    /// a missing one waits for `rise` good observations. Reads the owned
    /// record and the drain record, and applies a drain found there.
    public func start() async throws {
        recorded =
            try ownedFile.readTreatingRefusalAsAbsent(
                events: events, logger: logger,
                consequence:
                    "read as absent: ecmpd owns only the configured VIPs and removes no other address from lo")?
            .addresses ?? []
        readDrainRecord(force: true)
        let onLoopback = try loopback.addresses()
        let ownership = AddressOwnership(
            configured: Set(config.vips.map(\.address)), recorded: recorded, onLoopback: onLoopback)
        let hosts = Set(onLoopback.filter(\.isHost).map(\.address))
        let now = clock.now
        let drainedVIPs = drains.record.drainedVIPs
        for vip in config.vips {
            let present = hosts.contains(vip.address) && ownership.owned.contains(vip.address)
            // A director drain found at start-up with VIPs still on lo (a
            // crash during the wait) waits again before removing them.
            let drained = drainedVIPs.contains(vip.address) || (drains.record.director && !present)
            let step = policy(for: vip).adopt(onLoopback: present, drained: drained, at: now)
            states[vip.address] = step.state
            lastChange[vip.address] = clock.wallTime
            if let transition = step.transition { record(transition, vip: vip.address) }
        }
        drains.resume(
            anyAnnounced: states.values.contains(where: \.isAnnounced), now: now,
            wait: config.controller.drainWait)
        for vip in ownership.adopted.sorted() {
            logger.info("adopted VIP already on lo", metadata: ["vip": "\(vip)"])
        }
        try reconcileLoopback(ownership: ownership, onLoopback: onLoopback)
        await publish()
    }

    /// One cycle. Errors are counted and logged, never thrown: the loop
    /// must go on, and a failed dump is itself an observation.
    public func cycle() async {
        let started = clock.now
        readDrainRecord(force: false)
        var managed: [IPAddress: BackendCounter.Count]?
        let table: IPVSTable
        if config.mode == .managed, let checker,
            let unchanged = managedPlan.counts(
                verdictVersion: checker.verdictVersion, now: clock.now,
                services: { try ipvs.services() })
        {
            managed = unchanged
            table = IPVSTable()
        } else {
            table = dumpIPVS()
            if config.mode == .managed, let checker { managed = await manage(table, checker: checker) }
        }
        var pending: [(VIPConfig, VIPObservation)] = []
        let observed = managed ?? BackendCounter.counts(config.vips, in: table)
        for vip in config.vips {
            let count = observed[vip.address] ?? BackendCounter.count(vip, in: table)
            if counts[vip.address].map({ $0.usable != count.usable || $0.total != count.total }) ?? true {
                events.record(
                    ControllerEvent(
                        kind: .backendCount, vip: vip.address.description,
                        reason: describe(count), backends: BackendCount(usable: count.usable, total: count.total)))
            }
            counts[vip.address] = count
            pending.append((vip, VIPObservation(usable: count.usable, total: count.total, at: clock.now)))
        }
        let others = await othersAnnounce(pending)
        for (vip, observation) in pending {
            guard let state = states[vip.address] else { continue }
            var observation = observation
            observation.othersAnnounce = others[vip.address] ?? nil
            apply(policy(for: vip).observe(observation, in: state), vip: vip.address)
        }
        await applyDrains()
        await repairLoopback()
        metrics.recordReconcile(duration: clock.now - started)
    }

    /// Re-reads lo and makes it match the current decisions, without
    /// stepping any VIP's policy (no observation is invented): the end of
    /// every cycle, and at once after rtnetlink events were lost.
    public func repairLoopback() async {
        do {
            let onLoopback = try loopback.addresses()
            let ownership = AddressOwnership(
                configured: Set(config.vips.map(\.address)), recorded: recorded, onLoopback: onLoopback)
            try reconcileLoopback(ownership: ownership, onLoopback: onLoopback)
        } catch {
            logger.error("lo not reconciled", metadata: ["error": "\(error)"])
        }
        await publish()
    }

    /// SIGTERM: with `on_stop: withdraw`, every owned VIP leaves lo.
    public func stop() async {
        if RestartMarker.consumeAny(stateDirectory: config.node.stateDirectory) {
            logger.notice("stopping for a package upgrade; VIPs left on lo for the new ecmpd to adopt")
            return
        }
        guard config.controller.onStop == .withdraw else {
            logger.notice("stopping; VIPs left on lo (controller.on_stop: leave)")
            return
        }
        let now = clock.now
        for vip in config.vips.map(\.address) {
            guard var state = states[vip], state.isAnnounced else { continue }
            state.status = .withdrawn(.notYetHealthy)
            states[vip] = state
            record(VIPTransition(.withdraw, reason: "ecmpd stopping (controller.on_stop: withdraw)", at: now), vip: vip)
        }
        do {
            let onLoopback = try loopback.addresses()
            let ownership = AddressOwnership(
                configured: Set(config.vips.map(\.address)), recorded: recorded, onLoopback: onLoopback)
            try reconcileLoopback(ownership: ownership, onLoopback: onLoopback)
        } catch {
            logger.error("VIPs not withdrawn on stop", metadata: ["error": "\(error)"])
        }
        await publish()
    }

    // MARK: Config reload

    /// Applies a config that parsed and validated. VIPs kept keep their
    /// state (only their policy changes); new ones are adopted from lo;
    /// removed ones leave lo on this cycle (they stay owned until gone).
    public func apply(_ newConfig: LoadedConfig) async throws {
        let old = Set(config.vips.map(\.address))
        loaded = newConfig
        managedPlan.forget()
        if checker != nil { realServerEntries = RealServerView.entries(for: newConfig.config) }
        if config.mode == .managed { checker?.update(CheckTarget.all(in: config)) }
        let onLoopback = try loopback.addresses()
        let hosts = Set(onLoopback.filter(\.isHost).map(\.address))
        let now = clock.now
        for vip in config.vips where !old.contains(vip.address) {
            let step = policy(for: vip).adopt(
                onLoopback: hosts.contains(vip.address),
                drained: drains.record.drainedVIPs.contains(vip.address), at: now)
            states[vip.address] = step.state
            lastChange[vip.address] = clock.wallTime
        }
        let current = Set(config.vips.map(\.address))
        for gone in old.subtracting(current) {
            if states[gone]?.isAnnounced == true {
                events.record(ControllerEvent(kind: .withdraw, vip: gone.description, reason: "no longer configured"))
                metrics.recordTransition(vip: gone.description, direction: .withdraw)
            }
            states[gone] = nil
            counts[gone] = nil
            lastChange[gone] = nil
        }
        let ownership = AddressOwnership(configured: current, recorded: recorded, onLoopback: onLoopback)
        try reconcileLoopback(ownership: ownership, onLoopback: onLoopback)
        await publish()
    }

    public var currentConfig: LoadedConfig { loaded }

    // MARK: Pieces

    private func policy(for vip: VIPConfig) -> VIPPolicy {
        VIPPolicy(health: vip.health, guardsLastAnnouncer: config.controller.guardLastAnnouncer)
    }

    private func dumpIPVS() -> IPVSTable {
        do {
            let table = try ipvs.table()
            if lastDumpError != nil {
                logger.notice("IPVS readable again")
                lastDumpError = nil
            }
            return table
        } catch {
            // Counted as no backends: a director that cannot see its IPVS
            // table cannot vouch for it. `fall` still applies.
            metrics.recordNetlinkError(operation: "dump-ipvs")
            if lastDumpError != "\(error)" {
                logger.error("IPVS table not readable; counting no backends", metadata: ["error": "\(error)"])
                lastDumpError = "\(error)"
            }
            return IPVSTable()
        }
    }

    /// Managed mode's half of a cycle: plan IPVS from the check verdicts,
    /// write only the differences (a cycle with nothing new writes nothing),
    /// and count each VIP's usable backends from the verdicts and quorum.
    /// A table that cannot be read is neither written nor vouched for: every
    /// VIP counts none usable. A service whose write failed counts none
    /// usable this cycle; the next cycle plans again from what the kernel has.
    private func manage(_ table: IPVSTable, checker: any CheckVerdictSource) async
        -> [IPAddress: BackendCounter.Count]
    {
        // Before the verdicts: a change in between makes the next cycle plan again.
        let version = checker.verdictVersion
        let plan = ManagedPlanner.plan(config, verdicts: checker.verdicts, actual: table, quorum: quorum)
        quorum = plan.quorum
        for change in plan.quorumChanges {
            let sorry =
                change.sorryServer.map { change.held ? "; sorry server \($0) removed" : "; sorry server \($0) added" }
                ?? ""
            let reason =
                change.held
                ? "\(change.service): quorum regained, live weight \(change.liveWeight) >= \(change.threshold)\(sorry)"
                : "\(change.service): quorum lost, live weight \(change.liveWeight) < \(change.threshold)\(sorry)"
            events.record(ControllerEvent(kind: .quorum, vip: change.vip.description, reason: reason))
            logger.notice(
                "quorum \(change.held ? "regained" : "lost")",
                metadata: ["service": "\(change.service)", "reason": "\(reason)"])
        }
        var failed: Set<IPVSServiceIdentity> = []
        let readable = lastDumpError == nil
        if readable {
            var applied: [IPVSChange] = []
            for change in IPVSReconcilePlan(
                desired: plan.desired.table, actual: table, ownership: plan.desired.ownership
            ).changes {
                do {
                    try ipvs.apply(IPVSReconcilePlan(changes: [change]))
                    metrics.recordIPVSWrite(operation: change.operation)
                    applied.append(change)
                } catch {
                    failed.insert(change.service)
                    metrics.recordNetlinkError(operation: change.operation)
                    logger.error(
                        "IPVS change not applied; planning again next cycle",
                        metadata: ["change": "\(change)", "error": "\(error)"])
                }
            }
            if !applied.isEmpty {
                let shown = applied.prefix(20).map(\.description).joined(separator: "; ")
                let more = applied.count > 20 ? "; and \(applied.count - 20) more" : ""
                events.record(
                    ControllerEvent(
                        kind: .ipvs, reason: "\(shown)\(more)",
                        outcome: failed.isEmpty ? .ok : .failed(message: "some changes failed")))
            }
        }
        await status.publishRealServers(
            RealServerView(entries: realServerEntries, health: { checker.snapshot() }, programmed: plan.desired.table))
        var counts: [IPAddress: BackendCounter.Count] = [:]
        for vip in config.vips {
            guard var count = plan.counts[vip.address] else { continue }
            if !readable || !failed.isEmpty {
                count = BackendCounter.aggregate(
                    count.services.map { service in
                        (
                            service.identity, readable && !failed.contains(service.identity) ? service.usable : 0,
                            service.total
                        )
                    }, health: vip.health)
            }
            counts[vip.address] = count
        }
        if readable && failed.isEmpty {
            managedPlan.remember(verdictVersion: version, desired: plan.desired, counts: counts, at: clock.now)
        } else {
            managedPlan.forget()
        }
        return counts
    }

    /// The last-announcer guard's input, read only when a VIP is about to
    /// be withdrawn for health and the guard is on.
    private func othersAnnounce(_ pending: [(VIPConfig, VIPObservation)]) async -> [IPAddress: Bool?] {
        guard config.controller.guardLastAnnouncer, let announcers else { return [:] }
        let atRisk = pending.filter { vip, observation in
            guard let state = states[vip.address] else { return false }
            return policy(for: vip).wouldWithdraw(observation, in: state)
        }.map(\.0.address)
        guard !atRisk.isEmpty else { return [:] }
        return await announcers.othersAnnounce(atRisk)
    }

    private func apply(_ step: VIPStep, vip: IPAddress) {
        let before = states[vip]
        states[vip] = step.state
        if let transition = step.transition { record(transition, vip: vip) }
        if before?.status != step.state.status, step.transition == nil,
            case .heldByLastAnnouncerGuard(let reason) = step.state.status
        {
            logger.warning(
                "withdrawal held: no other director announces the VIP",
                metadata: ["vip": "\(vip)", "reason": "\(reason)"])
            lastChange[vip] = clock.wallTime
        }
    }

    private func record(_ transition: VIPTransition, vip: IPAddress) {
        let kind: ControllerEventKind = transition.action == .announce ? .announce : .withdraw
        let count = counts[vip].map { BackendCount(usable: $0.usable, total: $0.total) }
        events.record(ControllerEvent(kind: kind, vip: vip.description, reason: transition.reason, backends: count))
        metrics.recordTransition(
            vip: vip.description, direction: transition.action == .announce ? .announce : .withdraw)
        lastChange[vip] = clock.wallTime
        logger.notice("\(kind.rawValue) \(vip)", metadata: ["reason": "\(transition.reason)"])
    }

    /// Re-reads drain.json when its stamp moved.
    private func readDrainRecord(force: Bool) {
        do {
            guard let previous = try drains.reread(drainFile, force: force) else { return }
            let record = drains.record
            logger.notice(
                "drain record changed",
                metadata: ["director": "\(record.director)", "vips": "\(record.vips)"])
            // At start-up (force) the record is what was already in force.
            guard !force else { return }
            let configured = Set(config.vips.map(\.address))
            for vip in record.drainedVIPs.subtracting(previous.drainedVIPs).intersection(configured).sorted() {
                events.record(ControllerEvent(kind: .drain, vip: vip.description, reason: "drained by an operator"))
            }
            for vip in previous.drainedVIPs.subtracting(record.drainedVIPs).intersection(configured).sorted() {
                events.record(ControllerEvent(kind: .undrain, vip: vip.description, reason: "undrained by an operator"))
            }
        } catch {
            drainFile.reportRefusal(
                error, consequence: "not obeyed: drains stay as they were", events: events, logger: logger)
            logger.error("drain record not readable; keeping the previous one", metadata: ["error": "\(error)"])
        }
    }

    /// Makes the VIP states follow the drain record: single VIPs at once,
    /// the whole director in two phases (cost first, VIPs after the wait).
    private func applyDrains() async {
        let now = clock.now
        let wait = config.controller.drainWait
        switch drains.advance(now: now, wait: wait) {
        case .raiseCost?:
            let reason =
                "director drain: lo cost raised to \(config.controller.drainCost); "
                + "VIPs leave lo in \(DurationParser.format(wait))"
            events.record(ControllerEvent(kind: .drain, reason: reason))
            await routing.request(routingInputs, reason: "director drain", after: .zero)
        case .restoreCost?:
            let reason = "director undrain: lo cost back to \(config.ospf.loopbackCost); VIPs return when healthy"
            events.record(ControllerEvent(kind: .undrain, reason: reason))
            await routing.request(routingInputs, reason: "director undrain", after: .zero)
        case nil:
            break
        }
        for vipConfig in config.vips {
            let vip = vipConfig.address
            guard let state = states[vip] else { continue }
            let shouldDrain = drains.drains(vip)
            if shouldDrain && !state.isDrained {
                apply(policy(for: vipConfig).drain(state, at: now), vip: vip)
            } else if !shouldDrain && state.isDrained {
                apply(policy(for: vipConfig).undrain(state, at: now), vip: vip)
            }
        }
    }

    /// Records ownership before adding, then adds and removes.
    private func reconcileLoopback(ownership: AddressOwnership, onLoopback: [PrefixedAddress]) throws {
        if ownership.owned != recorded {
            try ownedFile.write(LoopbackRecord(owned: ownership.owned.sorted().map(\.description)))
            recorded = ownership.owned
        }
        for conflict in ownership.conflicts where !reportedConflicts.contains(conflict.address) {
            logger.error(
                "VIP on lo with another prefix length: not ecmpd's, left alone and not managed",
                metadata: ["address": "\(conflict)"])
            reportedConflicts.insert(conflict.address)
        }
        let announced = Set(states.filter { $0.value.isAnnounced }.keys)
        let plan = LoopbackPlan(ownership: ownership, announced: announced, onLoopback: onLoopback)
        for vip in plan.additions {
            do { try loopback.add(vip) } catch {
                metrics.recordNetlinkError(operation: "add-address")
                logger.error("VIP not added to lo", metadata: ["vip": "\(vip)", "error": "\(error)"])
            }
        }
        for vip in plan.removals {
            do { try loopback.remove(vip) } catch {
                metrics.recordNetlinkError(operation: "remove-address")
                logger.error("VIP not removed from lo", metadata: ["vip": "\(vip)", "error": "\(error)"])
            }
        }
    }

    private func publish() async {
        let statuses = config.vips.map { vip -> VIPStatus in
            let state = states[vip.address]
            let count = counts[vip.address]
            let shown: VIPStatus.State
            switch state?.status {
            case .announced?: shown = .announced
            case .heldByLastAnnouncerGuard?: shown = .held
            case .withdrawn(.drained)?: shown = .draining
            default: shown = .withdrawn
            }
            return VIPStatus(
                vip: vip.address.description, name: vip.name ?? "", state: shown,
                reason: state?.withdrawalReason?.description, usable: count?.usable ?? 0, total: count?.total ?? 0,
                lastChange: lastChange[vip.address] ?? clock.wallTime)
        }
        await status.publish(statuses)
    }

    private func describe(_ count: BackendCounter.Count) -> String {
        if count.services.isEmpty { return "no IPVS service on this VIP" }
        return count.services.map { service in
            service.total == 0 && service.usable == 0
                ? "\(service.identity): missing or empty"
                : "\(service.identity): \(service.usable)/\(service.total) usable"
        }.joined(separator: ", ")
    }
}
