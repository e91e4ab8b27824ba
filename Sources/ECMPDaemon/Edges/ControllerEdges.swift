import ECMPCore
import ECMPHealth
import ECMPNetlink

/// Everything the controller touches outside itself, passed in rather than
/// built inside, so its decisions run in tests with fakes and a manual
/// clock (as seesaw's engine reaches the kernel only through its NCC
/// interface). `system` is what `ecmpd run` passes.
public struct ControllerEdges {
    public var loopback: any LoopbackEdge
    public var ipvs: any IPVSEdge
    /// `<state_dir>/loopback.json`: the VIPs ecmpd owns on lo.
    public var ownedRecord: any RecordFile<LoopbackRecord>
    /// `<state_dir>/drain.json`: what an operator drained.
    public var drainRecord: any RecordFile<DrainRecord>
    public var routing: any RoutingRequester
    public var events: any EventRecorder
    /// The last-announcer guard's input; nil when the guard is off.
    public var announcers: (any AnnouncerSource)?
    /// Managed mode's verdicts; nil in observe mode.
    public var checker: (any CheckVerdictSource)?
    public var clock: any ControllerClock

    public init(
        loopback: any LoopbackEdge, ipvs: any IPVSEdge, ownedRecord: any RecordFile<LoopbackRecord>,
        drainRecord: any RecordFile<DrainRecord>, routing: any RoutingRequester, events: any EventRecorder,
        announcers: (any AnnouncerSource)? = nil, checker: (any CheckVerdictSource)? = nil,
        clock: any ControllerClock = SystemClock()
    ) {
        self.loopback = loopback
        self.ipvs = ipvs
        self.ownedRecord = ownedRecord
        self.drainRecord = drainRecord
        self.routing = routing
        self.events = events
        self.announcers = announcers
        self.checker = checker
        self.clock = clock
    }

    /// The kernel, the state directory and the system clocks. The state
    /// directory is read once: the history database stays where it was
    /// opened, so the records next to it do too until a restart.
    public static func system(
        stateDirectory: String, routing: RoutingCoordinator, events: EventSink,
        announcers: (any AnnouncerSource)?, checker: HealthChecker?
    ) throws -> ControllerEdges {
        ControllerEdges(
            loopback: try LoopbackAddresses(), ipvs: KernelIPVS(),
            ownedRecord: StateFile<LoopbackRecord>(path: LoopbackRecord.path(stateDirectory: stateDirectory)),
            drainRecord: StateFile<DrainRecord>(path: DrainRecord.path(stateDirectory: stateDirectory)),
            routing: routing, events: events, announcers: announcers, checker: checker)
    }
}
